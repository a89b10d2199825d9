/**
 * Linux character devices: device-number regions with fs/char_dev.c's rules (static and dynamic majors, overlaps,
 * splitting per major), cdevs made live over ranges, and /proc/devices.
 *
 * @packageDocumentation
 */

export {
  Cdev,
  CHRDEV_MAJOR_DYN_END,
  CHRDEV_MAJOR_DYN_EXT_END,
  CHRDEV_MAJOR_DYN_EXT_START,
  CHRDEV_MAJOR_HASH_SIZE,
  CHRDEV_MAJOR_MAX,
  type ChrdevRegion,
  ChrdevRegistry,
} from "./char-dev.js";

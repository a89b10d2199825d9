/**
 * A running simulated Linux kernel composed from the kbridge packages: tasks with credentials, and the
 * af_netlink socket layer with the rules, errnos and buffer accounting of Linux 6.18.
 *
 * @packageDocumentation
 */

export {
  CAP_LAST_CAP,
  CAP_NET_ADMIN,
  CAP_NET_BROADCAST,
  CAP_SYS_ADMIN,
  CAP_SYS_MODULE,
  Cred,
  type CredInit,
  capName,
} from "./cred.js";
export * from "./net/netlink/af-netlink.js";

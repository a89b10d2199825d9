// ioctl request numbers: decodeIoctl and _IOR against the shifts and masks a hand-written decoder or a C
// compiler would use for the generic layout (include/uapi/asm-generic/ioctl.h).

import {
  _IO,
  _IOR,
  _IOW,
  _IOWR,
  decodeIoctl,
  dma_buf_sync,
  kvm_regs,
  termios2,
  v4l2_capability,
} from "../src/index.js";

// Eight real request numbers, so that the decoders see every direction and a legacy number.
const CMDS: readonly number[] = [
  _IOR("V", 0, v4l2_capability), // VIDIOC_QUERYCAP
  _IOWR("V", 5, 208), // VIDIOC_S_FMT (struct v4l2_format is 208 bytes on x86-64)
  _IOW("T", 202, 4), // TUNSETIFF
  _IO(0xae, 0x01), // KVM_CREATE_VM
  _IOR(0xae, 0x81, kvm_regs), // KVM_GET_REGS
  0x5401, // TCGETS: legacy, encodes dir NONE and size 0
  _IOR("T", 0x2a, termios2), // TCGETS2
  _IOW("b", 0, dma_buf_sync), // DMA_BUF_IOCTL_SYNC
];

const DIR_NAMES: readonly string[] = ["NONE", "WRITE", "READ", "READ|WRITE"];
const V4L2_CAPABILITY_SIZE = 104;

export default [
  {
    group: "ioctl decode",
    tasks: {
      "decodeIoctl(cmd)": (i: number) => decodeIoctl(CMDS[i & 7]!),
      "inline shifts (baseline)": (i: number) => {
        const cmd = CMDS[i & 7]!;
        const dir = cmd >>> 30;
        const type = (cmd >>> 8) & 0xff;
        return {
          dir,
          dirName: DIR_NAMES[dir]!,
          type,
          typeChar: type > 0x20 && type < 0x7f ? String.fromCharCode(type) : null,
          nr: cmd & 0xff,
          size: (cmd >>> 16) & 0x3fff,
        };
      },
    },
    compare: [{ name: "decodeIoctl(cmd)", baseline: "inline shifts (baseline)" }],
  },
  {
    group: "ioctl encode",
    tasks: {
      "_IOR('V', nr, 104)": (i: number) => _IOR("V", i & 0xff, V4L2_CAPABILITY_SIZE),
      "_IOR('V', nr, v4l2_capability)": (i: number) => _IOR("V", i & 0xff, v4l2_capability),
      "inline shifts (baseline)": (i: number) =>
        ((2 << 30) | (V4L2_CAPABILITY_SIZE << 16) | (0x56 << 8) | (i & 0xff)) >>> 0,
    },
    compare: [
      { name: "_IOR('V', nr, 104)", baseline: "inline shifts (baseline)" },
      { name: "_IOR('V', nr, v4l2_capability)", baseline: "inline shifts (baseline)" },
    ],
  },
];

// Structs of other user-space interfaces that the ioctl and syscall models use: V4L2, KVM, poll, time,
// file cloning and dma-buf (linux/videodev2.h, asm/kvm.h, poll.h, time.h, linux/fs.h, linux/dma-buf.h).

import { array, char, long, s16, s32, s64, struct, u32, u64 } from "../struct.js";

/** `struct v4l2_capability` (VIDIOC_QUERYCAP): 104 bytes. */
export const v4l2_capability = struct("v4l2_capability", {
  driver: char(16),
  card: char(32),
  bus_info: char(32),
  version: u32,
  capabilities: u32,
  device_caps: u32,
  reserved: array(u32, 3),
});

/** `struct kvm_regs` (x86, KVM_GET_REGS/KVM_SET_REGS): 144 bytes, rip at 128, rflags at 136. */
export const kvm_regs = struct("kvm_regs", {
  rax: u64,
  rbx: u64,
  rcx: u64,
  rdx: u64,
  rsi: u64,
  rdi: u64,
  rsp: u64,
  rbp: u64,
  r8: u64,
  r9: u64,
  r10: u64,
  r11: u64,
  r12: u64,
  r13: u64,
  r14: u64,
  r15: u64,
  rip: u64,
  rflags: u64,
});

/** `struct pollfd`: 8 bytes; fd, requested events, returned events. */
export const pollfd = struct("pollfd", {
  fd: s32,
  events: s16,
  revents: s16,
});

/** `struct timespec` as glibc declares it: two `long`s, 16 bytes on x86-64 and 8 on i386. */
export const timespec = struct("timespec", {
  tv_sec: long,
  tv_nsec: long,
});

/** `struct file_clone_range` (FICLONERANGE): 32 bytes. */
export const file_clone_range = struct("file_clone_range", {
  src_fd: s64,
  src_offset: u64,
  src_length: u64,
  dest_offset: u64,
});

/** `struct dma_buf_sync` (DMA_BUF_IOCTL_SYNC): 8 bytes, one flags word (DMA_BUF_SYNC_READ/WRITE/START/END). */
export const dma_buf_sync = struct("dma_buf_sync", {
  flags: u64,
});

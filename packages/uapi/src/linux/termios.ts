// include/uapi/asm-generic/termios.h and termbits.h: the terminal structs of TIOCGWINSZ, TCGETS and TCGETS2,
// and glibc's larger user-space struct termios, which glibc converts before calling the kernel.

import { array, struct, u8, u16, u32 } from "../struct.js";

/** `struct winsize` (TIOCGWINSZ/TIOCSWINSZ): 8 bytes. */
export const winsize = struct("winsize", {
  ws_row: u16,
  ws_col: u16,
  ws_xpixel: u16,
  ws_ypixel: u16,
});

/** The kernel's `struct termios` (TCGETS/TCSETS): 36 bytes, NCCS = 19, no speed fields. */
export const termios = struct("termios", {
  c_iflag: u32,
  c_oflag: u32,
  c_cflag: u32,
  c_lflag: u32,
  c_line: u8,
  c_cc: array(u8, 19),
});

/** The kernel's `struct termios2` (TCGETS2/TCSETS2): 44 bytes, with input and output speeds. */
export const termios2 = struct("termios2", {
  c_iflag: u32,
  c_oflag: u32,
  c_cflag: u32,
  c_lflag: u32,
  c_line: u8,
  c_cc: array(u8, 19),
  c_ispeed: u32,
  c_ospeed: u32,
});

/**
 * glibc's user-space `struct termios` (termios.h): 60 bytes, NCCS = 32, speeds at 52 and 56. Passing it
 * straight to the TCGETS ioctl (which copies the 36-byte kernel struct) is a classic layout bug.
 */
export const glibc_termios = struct("termios", {
  c_iflag: u32,
  c_oflag: u32,
  c_cflag: u32,
  c_lflag: u32,
  c_line: u8,
  c_cc: array(u8, 32),
  c_ispeed: u32,
  c_ospeed: u32,
});

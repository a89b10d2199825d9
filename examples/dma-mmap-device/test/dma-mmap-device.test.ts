// What the example prints: each of the article's mistakes with the errno Linux gives ([6.1] rows M3, M7, M9, M10,
// M16 reproduced on a real kernel), and the corrected device compared with read() + copy_to_user.
import { describe, expect, it } from "vitest";
import { articleAsWritten, doneRight, missingSync, uaccessClaims } from "../src/index.js";

describe("the article's DMA + mmap device as written", () => {
  const text = articleAsWritten().join("\n");

  it("M6: major 240 is taken by the dynamic range when enough drivers came first", () => {
    expect(text).toContain("after 15 drivers took dynamic majors (254 down to 240) it is -16 (-EBUSY)");
  });

  it("M7: the maskless root device: WARN, NULL, insmod ENOMEM", () => {
    expect(text).toContain("WARN_ON_ONCE(!dev->coherent_dma_mask)");
    expect(text).toContain('init_module("dma_mmap_dev") = -1 ENOMEM (Cannot allocate memory)');
  });

  it("M19: 0x%pad prints 0x twice", () => {
    expect(text).toMatch(/phys=0x0x[0-9a-f]{16}/);
  });

  it("M16: read EINVAL, ioctl ENOTTY, lseek ESPIPE, poll DEFAULT_POLLMASK", () => {
    expect(text).toContain(
      "read() = -1 Invalid argument; ioctl(fd, 0x1234) = -1 Inappropriate ioctl for device; lseek = -29 (ESPIPE); poll mask 145",
    );
  });

  it("M9: the driver's EINVAL for 8 MiB, ENXIO for any non-zero offset, EACCES for PROT_WRITE on O_RDONLY", () => {
    expect(text).toContain("mmap(8 MiB) = -1 Invalid argument — the driver's check");
    expect(text).toContain(
      "mmap(4 KiB at offset 4 KiB, inside the 4 MiB buffer) = -1 No such device or address",
    );
    expect(text).toContain("PROT_WRITE|MAP_SHARED on an O_RDONLY fd = -1 Permission denied");
  });

  it("M10: rmmod EAGAIN while open, EAGAIN after close while mapped, 0 after munmap", () => {
    expect(text).toContain("while the fd is open: delete_module = -1 Resource temporarily unavailable");
    expect(text).toContain("after close, still mapped: delete_module = -1 Resource temporarily unavailable");
    expect(text).toContain("after munmap: delete_module = 0");
  });
});

describe("the device done right", () => {
  const text = doneRight().join("\n");

  it("maps the buffer within the kernel's bound and shows the device's frame with no copy", () => {
    expect(text).toContain("two pages from there = -1 No such device or address (the kernel's bound)");
    expect(text).toContain('the viewer reads "frame 1" and page 100\'s marker 100:');
    expect(text).toContain("0 bytes copied, 0 uaccess calls");
    expect(text).toContain(
      "the same frame with read(): 4194304 bytes, 4194304 bytes copied by copy_to_user, 1 system call",
    );
  });

  it("M3: a read into 100 writable bytes is short (100); into PROT_NONE it is EFAULT", () => {
    expect(text).toContain("= 100 (copy_to_user left 3996 bytes: a short read)");
    expect(text).toContain("read(10) straight into the PROT_NONE page = -14 (Bad address)");
    expect(text).toContain("rmmod dma_frame = 0");
  });
});

describe("syncs where they matter", () => {
  it("M11: a streaming read without dma_sync_single_for_cpu gives stale bytes; with it, the device's", () => {
    const text = missingSync().join("\n");
    expect(text).toContain("the process reads 0x11;");
    expect(text).toContain("the next frame arrives as written: 0xa2 (0xa2)");
  });
});

describe("the article's uaccess and mapping claims", () => {
  const text = uaccessClaims().join("\n");

  it("M1, M2: the user half is low; access_ok checks the range only", () => {
    expect(text).toMatch(
      /mapping is at 0x7f[0-9a-f]+; the kernel's view of\n {4}the same buffer is at 0xffff888/,
    );
    expect(text).toContain("an unmapped user address passes (true),\n    a kernel address fails (false)");
  });

  it("M4, M5: the retry loop never ends; the atomic copy fails where copy_to_user faults the page in", () => {
    expect(text).toContain("each try returns 64, 64, 64, … — it never ends");
    expect(text).toContain("copy_to_user_nofault = -14");
    expect(text).toContain("copy_to_user = 0 (the fault is resolved, demand-zero)");
  });

  it("M8, M13: remap_pfn_range sets the VMA flags; mmap rounds the length and allocates lazily", () => {
    expect(text).toContain("sets VM_IO | VM_PFNMAP | VM_DONTEXPAND | VM_DONTDUMP itself");
    expect(text).toContain("mmap(4097 bytes) maps 2 pages (the length is rounded up) and allocates 0 frames");
  });
});

// The source article's §5.3 comparison, done honestly on the model: 4 MiB from a device to a process, per transfer.
// (a) read(): the device DMAs into a kernel buffer, then read() copies it out with copy_to_user;
// (b) mmap: the device DMAs into a coherent buffer the process mapped once with dma_mmap_coherent.
// The DMA transfer (the device writing 4 MiB) is paid on both paths; what mmap saves is the copy. The baseline is
// the DMA alone, so each ratio shows what a path adds to it.

import { GFP_KERNEL, MAP_SHARED, type MmapFile, PROT_READ, type Vma, Vmm } from "@kbridge/vmm";
import {
  Device,
  DMA_BIT_MASK,
  dma_alloc_coherent,
  dma_mmap_coherent,
  dma_set_mask_and_coherent,
} from "../src/index.js";

const MiB = 1 << 20;
const vmm = new Vmm({ ram: 64 * MiB });
const dev = new Device(vmm, "0000:00:04.0");
dma_set_mask_and_coherent(dev, DMA_BIT_MASK(32));
const payload = new Uint8Array(4 * MiB).fill(0x5a); // what the device produces each time

// (a) a kernel buffer the device writes, and a user buffer read() fills.
const kbuf = dma_alloc_coherent(dev, 4 * MiB, GFP_KERNEL)!;
const mm = vmm.mm_alloc();
vmm.switch_mm(mm);
const ubuf = mm.mmap(0, 4 * MiB, 3, 0x22 | 0x8000); // PROT_READ|WRITE, MAP_PRIVATE|MAP_ANONYMOUS|MAP_POPULATE

// (b) a second coherent buffer, mapped into the process once.
const shared = dma_alloc_coherent(dev, 4 * MiB, GFP_KERNEL)!;
const file: MmapFile = {
  readable: true,
  writable: false,
  mmap: (vma: Vma) => {
    if (dma_mmap_coherent(dev, vma, shared.cpu_addr, shared.dma_handle, 4 * MiB) !== 0)
      throw new Error("ENXIO");
  },
};
const view = mm.mmap(0, 4 * MiB, PROT_READ, MAP_SHARED, file);

export default {
  group: "4 MiB from the device to a process (source article §5.3)",
  work: { bytes: 4 * MiB },
  tasks: {
    "read(): DMA into a kernel buffer + copy_to_user": () => {
      dev.busWrite(kbuf.dma_handle, payload);
      return vmm.copy_to_user(ubuf, kbuf.cpu_addr, 4 * MiB);
    },
    "mmap: DMA into the mapped coherent buffer": () => {
      dev.busWrite(shared.dma_handle, payload);
      return view;
    },
    "the DMA alone (baseline)": () => {
      dev.busWrite(kbuf.dma_handle, payload);
      return kbuf;
    },
  },
  compare: [
    { name: "read(): DMA into a kernel buffer + copy_to_user", baseline: "the DMA alone (baseline)" },
    { name: "mmap: DMA into the mapped coherent buffer", baseline: "the DMA alone (baseline)" },
  ],
};

/**
 * The Linux DMA API on a simulated machine (@kbridge/vmm): devices with their DMA masks and the kernel's rules for
 * them, coherent DMA memory with dma-direct's zone ladder (mappable into a process with dma_mmap_coherent),
 * streaming DMA with swiotlb bouncing, and dma-debug's checks with the kernel's messages.
 *
 * @packageDocumentation
 */

export {
  type DmaDebugEntry,
  type DmaDebugStats,
  type DmaDebugType,
  device_release_driver,
  dma_debug_config,
  dma_debug_entries,
  dma_debug_stats,
} from "./debug.js";
export {
  Device,
  type DeviceKind,
  type DeviceOptions,
  DMA_BIT_MASK,
  dma_coerce_mask_and_coherent,
  dma_get_mask,
  dma_get_required_mask,
  dma_set_coherent_mask,
  dma_set_mask,
  dma_set_mask_and_coherent,
  dma_supported,
  ZONE_DMA_LIMIT,
} from "./device.js";
export {
  DMA_MAPPING_ERROR,
  type DmaAddr,
  type DmaCoherent,
  dma_alloc_coherent,
  dma_free_coherent,
  dma_mmap_coherent,
} from "./direct.js";
export {
  DMA_IRQ,
  DMA_SIZE,
  DMA_START,
  EDU_BAR_SIZE,
  EDU_DMA_IRQ,
  EDU_DMA_RUN,
  EDU_DMA_TO_PCI,
  EDU_STATUS_COMPUTING,
  EDU_STATUS_IRQFACT,
  EduDevice,
  type EduOptions,
  FACT_IRQ,
  VirtualClock,
} from "./edu.js";
export {
  DMA_ATTR_ALLOC_SINGLE_PAGES,
  DMA_ATTR_FORCE_CONTIGUOUS,
  DMA_ATTR_NO_KERNEL_MAPPING,
  DMA_ATTR_NO_WARN,
  DMA_ATTR_PRIVILEGED,
  DMA_ATTR_SKIP_CPU_SYNC,
  DMA_ATTR_WEAK_ORDERING,
  DMA_ATTR_WRITE_COMBINE,
  DMA_BIDIRECTIONAL,
  DMA_FROM_DEVICE,
  DMA_NONE,
  DMA_TO_DEVICE,
  type DmaDirection,
  dma_capable,
  dma_map_page,
  dma_map_single,
  dma_mapping_error,
  dma_sync_single_for_cpu,
  dma_sync_single_for_device,
  dma_unmap_page,
  dma_unmap_single,
} from "./mapping.js";
export {
  RING_CTRL_ENABLE,
  RING_CTRL_IRQ,
  RING_DESC_IRQ,
  RING_DESC_OWN,
  RING_DESC_SIZE,
  RING_REG,
  RING_STATUS_OK,
  RING_STATUS_TARGET_ABORT,
  RingDmaDevice,
  type RingOptions,
} from "./ring.js";
export { dma_get_sgtable, dma_map_sg, dma_unmap_sg, type ScatterList } from "./sg.js";
export {
  IO_TLB_DEFAULT_SIZE,
  IO_TLB_SEGSIZE,
  IO_TLB_SHIFT,
  IO_TLB_SIZE,
  type SwiotlbOptions,
  type SwiotlbStats,
  swiotlb_init,
  swiotlb_stats,
} from "./swiotlb.js";

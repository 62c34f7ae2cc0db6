package dev.torchlight.engine;

/**
 * What the engine's caching allocator holds on one GPU: the memory tensors use, the memory it keeps
 * reserved from the driver (used plus cached for reuse), and the most tensors ever used at once.
 *
 * @param device the CUDA ordinal
 */
public record DeviceAllocation(int device, long allocatedBytes, long reservedBytes, long peakAllocatedBytes) {}

package dev.torchlight.engine;

/**
 * One GPU's memory as the driver reports it now.
 *
 * @param device the CUDA ordinal
 * @param freeBytes memory no process holds
 * @param totalBytes memory installed
 */
public record DeviceMemory(int device, long freeBytes, long totalBytes) {}

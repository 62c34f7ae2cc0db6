package dev.torchlight.server.metrics.gpu;

import com.sun.jna.Library;
import com.sun.jna.Native;
import com.sun.jna.Pointer;
import com.sun.jna.ptr.IntByReference;
import com.sun.jna.ptr.PointerByReference;
import java.nio.charset.StandardCharsets;
import java.util.Optional;

/**
 * {@link Nvml} over NVIDIA's {@code libnvidia-ml} (shipped with the driver), bound with JNA: only
 * the handful of calls the GPU metrics read. Structures are passed as primitive arrays of the same
 * layout ({@code nvmlMemory_t} is three unsigned 64-bit integers, {@code nvmlUtilization_t} two
 * unsigned 32-bit ones).
 */
public final class JnaNvml implements Nvml {
    /** The library's name on Linux ({@code libnvidia-ml.so.1}). */
    public static final String LIBRARY = "nvidia-ml";

    private static final int SUCCESS = 0;
    private static final int TEMPERATURE_GPU = 0;
    private static final int NAME_LENGTH = 96;

    /** The C functions used, as NVML declares them. */
    interface NvmlLibrary extends Library {
        int nvmlInit_v2();

        int nvmlShutdown();

        int nvmlDeviceGetCount_v2(IntByReference count);

        int nvmlDeviceGetHandleByIndex_v2(int index, PointerByReference device);

        int nvmlDeviceGetName(Pointer device, byte[] name, int length);

        int nvmlDeviceGetUtilizationRates(Pointer device, int[] utilization);

        int nvmlDeviceGetMemoryInfo(Pointer device, long[] memory);

        int nvmlDeviceGetPowerUsage(Pointer device, IntByReference milliwatts);

        int nvmlDeviceGetTemperature(Pointer device, int sensor, IntByReference celsius);
    }

    private final NvmlLibrary lib;

    private JnaNvml(NvmlLibrary lib) {
        this.lib = lib;
    }

    /**
     * Loads and initialises the library.
     *
     * @param library the library name to load ({@link #LIBRARY})
     * @return empty when it is not installed or does not initialise (no driver, no GPU)
     */
    public static Optional<Nvml> load(String library) {
        NvmlLibrary lib;
        try {
            lib = Native.load(library, NvmlLibrary.class);
        } catch (UnsatisfiedLinkError | RuntimeException e) {
            return Optional.empty();
        }
        try {
            if (lib.nvmlInit_v2() != SUCCESS) {
                return Optional.empty();
            }
        } catch (UnsatisfiedLinkError | RuntimeException e) {
            return Optional.empty();
        }
        return Optional.of(new JnaNvml(lib));
    }

    @Override
    public int deviceCount() {
        IntByReference count = new IntByReference();
        return lib.nvmlDeviceGetCount_v2(count) == SUCCESS ? count.getValue() : 0;
    }

    @Override
    public GpuReading read(int index) {
        PointerByReference handle = new PointerByReference();
        if (lib.nvmlDeviceGetHandleByIndex_v2(index, handle) != SUCCESS) {
            return new GpuReading(index, "unknown", Double.NaN, Double.NaN, Double.NaN, Double.NaN, Double.NaN);
        }
        Pointer device = handle.getValue();
        byte[] nameBytes = new byte[NAME_LENGTH];
        String name = "unknown";
        if (lib.nvmlDeviceGetName(device, nameBytes, NAME_LENGTH) == SUCCESS) {
            int end = 0;
            while (end < nameBytes.length && nameBytes[end] != 0) {
                end++;
            }
            name = new String(nameBytes, 0, end, StandardCharsets.UTF_8);
        }
        int[] utilization = new int[2];
        double util = lib.nvmlDeviceGetUtilizationRates(device, utilization) == SUCCESS
                ? Integer.toUnsignedLong(utilization[0]) / 100.0 : Double.NaN;
        long[] memory = new long[3]; // total, free, used
        boolean memoryKnown = lib.nvmlDeviceGetMemoryInfo(device, memory) == SUCCESS;
        IntByReference milliwatts = new IntByReference();
        double power = lib.nvmlDeviceGetPowerUsage(device, milliwatts) == SUCCESS
                ? Integer.toUnsignedLong(milliwatts.getValue()) / 1000.0 : Double.NaN;
        IntByReference celsius = new IntByReference();
        double temperature = lib.nvmlDeviceGetTemperature(device, TEMPERATURE_GPU, celsius) == SUCCESS
                ? Integer.toUnsignedLong(celsius.getValue()) : Double.NaN;
        return new GpuReading(index, name, util, memoryKnown ? unsigned(memory[2]) : Double.NaN,
                memoryKnown ? unsigned(memory[0]) : Double.NaN, power, temperature);
    }

    private static double unsigned(long value) {
        return value >= 0 ? value : Double.parseDouble(Long.toUnsignedString(value));
    }
}

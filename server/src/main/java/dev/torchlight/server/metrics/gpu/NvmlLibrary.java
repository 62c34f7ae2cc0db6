package dev.torchlight.server.metrics.gpu;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.util.Optional;

/**
 * {@link Nvml} over NVIDIA's {@code libnvidia-ml} (shipped with the driver), bound with Java's FFM:
 * only the handful of calls the GPU metrics read. {@code nvmlMemory_t} is read as three unsigned
 * 64-bit integers (total, free, used), {@code nvmlUtilization_t} as two unsigned 32-bit ones.
 */
@SuppressWarnings("restricted") // binding a native library is what this class is for
public final class NvmlLibrary implements Nvml {
    /** The library as the driver installs it; the dynamic loader finds it. */
    public static final String LIBRARY = "libnvidia-ml.so.1";

    private static final int SUCCESS = 0;
    private static final int TEMPERATURE_GPU = 0;
    private static final int NAME_LENGTH = 96;
    private static final FunctionDescriptor STATUS = FunctionDescriptor.of(JAVA_INT);
    private static final FunctionDescriptor STATUS_POINTER = FunctionDescriptor.of(JAVA_INT, ADDRESS);
    private static final FunctionDescriptor STATUS_DEVICE_POINTER = FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS);

    private final MethodHandle getCount;
    private final MethodHandle getHandle;
    private final MethodHandle getName;
    private final MethodHandle getUtilization;
    private final MethodHandle getMemory;
    private final MethodHandle getPower;
    private final MethodHandle getTemperature;

    private NvmlLibrary(SymbolLookup symbols) {
        getCount = bind(symbols, "nvmlDeviceGetCount_v2", STATUS_POINTER);
        getHandle = bind(symbols, "nvmlDeviceGetHandleByIndex_v2", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS));
        getName = bind(symbols, "nvmlDeviceGetName", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, JAVA_INT));
        getUtilization = bind(symbols, "nvmlDeviceGetUtilizationRates", STATUS_DEVICE_POINTER);
        getMemory = bind(symbols, "nvmlDeviceGetMemoryInfo", STATUS_DEVICE_POINTER);
        getPower = bind(symbols, "nvmlDeviceGetPowerUsage", STATUS_DEVICE_POINTER);
        getTemperature = bind(symbols, "nvmlDeviceGetTemperature",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, ADDRESS));
    }

    /**
     * Loads and initialises the library. It stays loaded for the life of the process, as the
     * metrics read it until the end.
     *
     * @param library the library's name or path ({@link #LIBRARY})
     * @return empty when it is not installed, lacks a function used here, or does not initialise
     *     (no driver, no GPU)
     */
    public static Optional<Nvml> load(String library) {
        try {
            SymbolLookup symbols = SymbolLookup.libraryLookup(library, Arena.global());
            NvmlLibrary nvml = new NvmlLibrary(symbols);
            int status = (int) bind(symbols, "nvmlInit_v2", STATUS).invokeExact();
            return status == SUCCESS ? Optional.of(nvml) : Optional.empty();
        } catch (Throwable e) { // a missing library or symbol; nothing the metrics can do without it
            return Optional.empty();
        }
    }

    @Override
    public int deviceCount() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment count = arena.allocate(JAVA_INT);
            return (int) getCount.invokeExact(count) == SUCCESS ? count.get(JAVA_INT, 0) : 0;
        } catch (Throwable e) {
            throw new IllegalStateException("NVML device count", e);
        }
    }

    @Override
    public GpuReading read(int index) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment handle = arena.allocate(ADDRESS);
            if ((int) getHandle.invokeExact(index, handle) != SUCCESS) {
                return new GpuReading(index, "unknown", Double.NaN, Double.NaN, Double.NaN, Double.NaN, Double.NaN);
            }
            MemorySegment device = handle.get(ADDRESS, 0);
            MemorySegment nameBytes = arena.allocate(JAVA_BYTE, NAME_LENGTH);
            String name = (int) getName.invokeExact(device, nameBytes, NAME_LENGTH) == SUCCESS
                    ? nameBytes.getString(0) : "unknown";
            MemorySegment utilization = arena.allocate(JAVA_INT, 2);
            double util = (int) getUtilization.invokeExact(device, utilization) == SUCCESS
                    ? Integer.toUnsignedLong(utilization.getAtIndex(JAVA_INT, 0)) / 100.0 : Double.NaN;
            MemorySegment memory = arena.allocate(JAVA_LONG, 3);
            boolean memoryKnown = (int) getMemory.invokeExact(device, memory) == SUCCESS;
            MemorySegment milliwatts = arena.allocate(JAVA_INT);
            double power = (int) getPower.invokeExact(device, milliwatts) == SUCCESS
                    ? Integer.toUnsignedLong(milliwatts.get(JAVA_INT, 0)) / 1000.0 : Double.NaN;
            MemorySegment celsius = arena.allocate(JAVA_INT);
            double temperature = (int) getTemperature.invokeExact(device, TEMPERATURE_GPU, celsius) == SUCCESS
                    ? Integer.toUnsignedLong(celsius.get(JAVA_INT, 0)) : Double.NaN;
            return new GpuReading(index, name, util,
                    memoryKnown ? unsigned(memory.getAtIndex(JAVA_LONG, 2)) : Double.NaN,
                    memoryKnown ? unsigned(memory.getAtIndex(JAVA_LONG, 0)) : Double.NaN, power, temperature);
        } catch (Throwable e) {
            throw new IllegalStateException("NVML reading of GPU " + index, e);
        }
    }

    private static MethodHandle bind(SymbolLookup symbols, String function, FunctionDescriptor descriptor) {
        MemorySegment address = symbols.find(function)
                .orElseThrow(() -> new IllegalArgumentException("NVML has no " + function));
        return Linker.nativeLinker().downcallHandle(address, descriptor);
    }

    private static double unsigned(long value) {
        return value >= 0 ? value : Double.parseDouble(Long.toUnsignedString(value));
    }
}

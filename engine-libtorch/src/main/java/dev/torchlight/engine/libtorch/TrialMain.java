package dev.torchlight.engine.libtorch;

import static java.lang.foreign.ValueLayout.ADDRESS;

import dev.torchlight.api.DataType;
import dev.torchlight.api.Tensor;
import dev.torchlight.config.GpuSettings;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;

/**
 * The process {@link TrialProcess} starts: loads one model file with the engine library (the one the
 * system property {@value LibraryFile#PROPERTY} names) where the server would, and runs it once on
 * zeros. Exit 0 when both worked, {@value #FAILED} when either failed with an error (printed); a
 * crash ends the process otherwise (the JVM's crash report and status 1), which is what the trial is for.
 *
 * <pre>TrialMain FILE DEVICE INPUT...</pre>
 * FILE: a TorchScript file or an AOTInductor package ({@code .pt2}); DEVICE: {@code cpu} or a CUDA
 * ordinal; INPUT: {@code TYPE:d0,d1,...} per model input (e.g. {@code FP32:1,3,224,224}), in order.
 */
public final class TrialMain {
    /** The exit status of a trial that failed with an error rather than a crash. */
    static final int FAILED = 3;

    private TrialMain() {}

    public static void main(String[] args) {
        try {
            run(args);
            System.out.println("trial: loaded and ran " + args[0]);
            System.exit(0);
        } catch (RuntimeException e) {
            System.out.println("trial: " + e.getMessage());
            System.exit(FAILED);
        }
    }

    private static void run(String[] args) {
        if (args.length < 2) {
            throw new IllegalArgumentException("usage: TrialMain FILE DEVICE INPUT...");
        }
        String file = args[0];
        boolean cuda = !args[1].equals("cpu");
        List<Tensor> inputs = new ArrayList<>();
        for (int i = 2; i < args.length; i++) {
            inputs.add(zeros(args[i]));
        }
        EngineLibrary library = EngineLibrary.load(LibraryFile.locate());
        MemorySegment handle = library.load(file, file.endsWith(".pt2") ? EngineLibrary.AOTI : EngineLibrary.TORCHSCRIPT,
                cuda ? EngineLibrary.DEVICE_CUDA : EngineLibrary.DEVICE_CPU, cuda ? Integer.parseInt(args[1]) : -1,
                EngineLibrary.PRECISION_AS_SAVED, false, GpuSettings.DEFAULT, "");
        try (CallFrame frame = new CallFrame(inputs.size(), new int[0])) {
            library.run(handle, frame.describe(inputs), inputs.size(), frame.floatOutputs(), frame.floatOutputCount(),
                    frame.outputsHandle(), "");
            library.freeOutputs(frame.outputsHandle().get(ADDRESS, 0));
        } finally {
            library.free(handle);
        }
    }

    /** {@code TYPE:d0,d1,...}: zeros of that type and shape, on the Java heap. */
    static Tensor zeros(String input) {
        int colon = input.indexOf(':');
        DataType type = DataType.parse(input.substring(0, colon));
        String[] dims = input.substring(colon + 1).split(",");
        long[] shape = new long[dims.length];
        long elements = 1;
        for (int d = 0; d < dims.length; d++) {
            shape[d] = Long.parseLong(dims[d]);
            elements = Math.multiplyExact(elements, shape[d]);
        }
        ByteBuffer data = ByteBuffer.allocate(Math.toIntExact(elements * type.byteSize())).order(ByteOrder.nativeOrder());
        return new Tensor("input", type, shape, data);
    }
}

package dev.torchlight.engine.pytorch;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.engine.PtNDManager;
import ai.djl.pytorch.engine.PtSymbolBlock;
import ai.djl.pytorch.jni.IValueUtils;
import ai.djl.pytorch.jni.JniUtils;
import dev.torchlight.api.DataType;
import dev.torchlight.api.Tensor;
import dev.torchlight.config.ModelConfig;
import dev.torchlight.config.TensorSpec;
import dev.torchlight.engine.EngineException;
import dev.torchlight.engine.LoadedModel;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;

/**
 * One TorchScript module in libtorch. Each call works in its own sub-manager, closed before the call
 * returns, so a call leaves no native tensors behind; outputs are copied out to heap buffers first.
 */
final class PyTorchModel implements LoadedModel {
    private static final int SCRATCH_ALIGNMENT = 64;
    private final String name;
    private final List<TensorSpec> inputs;
    private final List<TensorSpec> outputs;
    private final PtNDManager manager;
    private final PtSymbolBlock module;
    private final boolean graphOptimizer;
    private final IntraOpBudget.Lease intraOpThreads;
    /** Native memory for inputs that arrive on the heap, reused by every call. */
    private ByteBuffer scratch = ByteBuffer.allocateDirect(0);
    private boolean closed;

    /**
     * @param intraOpThreads this instance's claim on the engine's intra-op threads, released on close
     */
    PyTorchModel(ModelConfig config, PtNDManager manager, PtSymbolBlock module, boolean graphOptimizer,
            IntraOpBudget.Lease intraOpThreads) {
        this.name = config.name();
        this.intraOpThreads = intraOpThreads;
        this.inputs = config.inputs();
        this.outputs = config.outputs();
        this.manager = manager;
        this.module = module;
        this.graphOptimizer = graphOptimizer;
    }

    @Override
    public List<Tensor> infer(List<Tensor> tensors) {
        if (closed) {
            throw new EngineException("model '" + name + "' is closed");
        }
        if (tensors.size() != inputs.size()) {
            throw new EngineException("model '" + name + "' takes " + inputs.size()
                    + " inputs, got " + tensors.size());
        }
        try (PtNDManager call = manager.newSubManager(manager.getDevice())) {
            ensureScratch(tensors);
            NDList in = new NDList(tensors.size());
            int offset = 0;
            for (Tensor tensor : tensors) {
                ByteBuffer data = tensor.data();
                if (needsCopy(tensor, data)) {
                    data = scratch.slice(offset, data.remaining()).put(data).flip();
                    offset += aligned(data.remaining());
                }
                in.add(toNative(call, tensor, data));
            }
            // Both settings are per thread in libtorch, and the worker thread may not be the loader.
            JniUtils.setGraphExecutorOptimize(graphOptimizer);
            PyTorchRuntime.applyIntraOpThreads(intraOpThreads.threads());
            // Straight to the module: PtSymbolBlock.forward would re-read DJL's system properties.
            return toTensors(IValueUtils.forward(module, in, false));
        } catch (EngineException e) {
            throw e;
        } catch (RuntimeException | OutOfMemoryError e) {
            // Out of memory is marked so that the caller may retry the batch in smaller pieces.
            throw new EngineException("model '" + name + "': " + NativeErrors.message(e), e,
                    NativeErrors.outOfMemory(e));
        }
    }

    /**
     * libtorch reads an input in place, so it must be native memory aligned to its element size;
     * anything else is copied to the scratch buffer first.
     */
    private static boolean needsCopy(Tensor tensor, ByteBuffer data) {
        return !data.isDirect() || data.alignmentOffset(0, tensor.dataType().byteSize()) != 0;
    }

    private static int aligned(int bytes) {
        return (bytes + SCRATCH_ALIGNMENT - 1) & -SCRATCH_ALIGNMENT;
    }

    private void ensureScratch(List<Tensor> tensors) {
        long needed = 0;
        for (Tensor tensor : tensors) {
            if (needsCopy(tensor, tensor.data())) {
                needed += aligned(tensor.data().remaining());
            }
        }
        if (needed > scratch.capacity()) {
            // Over-allocate so the slice can start on an aligned address.
            scratch = ByteBuffer.allocateDirect(Math.toIntExact(needed + SCRATCH_ALIGNMENT))
                    .alignedSlice(SCRATCH_ALIGNMENT);
        }
    }

    private NDArray toNative(PtNDManager call, Tensor tensor, ByteBuffer data) {
        ai.djl.ndarray.types.DataType type = DataTypes.toDjl(tensor.dataType());
        if (type == null) {
            // Never reaches DJL: creating such a tensor there aborts the process.
            throw new EngineException("model '" + name + "': input '" + tensor.name()
                    + "' has datatype " + tensor.dataType() + ", which the PyTorch engine cannot run");
        }
        return call.create(data.order(ByteOrder.nativeOrder()), new Shape(tensor.shape()), type);
    }

    private List<Tensor> toTensors(NDList results) {
        if (results.size() != outputs.size()) {
            throw new EngineException("model '" + name + "' returned " + results.size()
                    + " outputs, its config declares " + outputs.size());
        }
        List<Tensor> tensors = new ArrayList<>(outputs.size());
        for (int i = 0; i < outputs.size(); i++) {
            tensors.add(toTensor(outputs.get(i), result(results, i)));
        }
        return tensors;
    }

    /**
     * The array for declared output {@code i}: by position for a tensor, tuple or list, by key for
     * a {@code Dict[str, Tensor]}, whose entries DJL returns in no particular order.
     */
    private NDArray result(NDList results, int i) {
        if (results.get(i).getName() == null) {
            return results.get(i);
        }
        String key = outputs.get(i).name();
        NDArray array = results.get(key);
        if (array == null) {
            throw new EngineException("model '" + name + "' returned a dict without key '" + key
                    + "'; its keys are " + results.stream().map(NDArray::getName).sorted().toList());
        }
        return array;
    }

    private Tensor toTensor(TensorSpec spec, NDArray array) {
        DataType declared = spec.dataType();
        if (array.getDataType() != DataTypes.toDjl(declared)) {
            throw new EngineException("model '" + name + "' returned output '" + spec.name()
                    + "' as " + DataTypes.describe(array.getDataType()) + ", its config declares "
                    + declared);
        }
        // A view of libtorch's memory (made contiguous if needed), copied to the heap in one go so
        // it outlives the call's manager.
        ByteBuffer view = array.toByteBuffer(true);
        ByteBuffer copy = ByteBuffer.allocate(view.remaining()).put(view).flip();
        return new Tensor(spec.name(), declared, array.getShape().getShape(), copy);
    }

    /**
     * Native arrays alive in the whole process, counted from DJL's root manager so that arrays
     * detached from this model count too; constant between calls unless a call leaked.
     */
    int liveArrays() {
        NDManager root = manager;
        while (root.getParentManager() != null) {
            root = root.getParentManager();
        }
        return root.getManagedArrays().size();
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            module.close();
            manager.close();
            intraOpThreads.close();
        }
    }
}

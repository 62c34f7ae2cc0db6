package dev.torchlight.engine.pytorch;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class NativeErrorsTest {

    @Test
    void torchScriptErrorsGiveTheirLastLine() {
        String message = """
                The following operation failed in the TorchScript interpreter.
                Traceback of TorchScript, serialized code (most recent call last):
                  File "code/__torch__.py", line 8, in forward
                    return torch.t(x)
                           ~~~~~~~ <--- HERE
                RuntimeError: t() expects a tensor with <= 2 dimensions, but self is 3D
                """;

        assertThat(NativeErrors.message(new RuntimeException(message)))
                .isEqualTo("RuntimeError: t() expects a tensor with <= 2 dimensions, but self is 3D");
    }

    @Test
    void otherErrorsGiveTheirFirstLine() {
        String message = "PytorchStreamReader failed locating file constants.pkl: file not found\nmore";

        assertThat(NativeErrors.message(new RuntimeException(message)))
                .isEqualTo("PytorchStreamReader failed locating file constants.pkl: file not found");
    }

    @Test
    void aMissingMessageFallsBackToTheCauseThenTheClassName() {
        RuntimeException wrapper = new RuntimeException((String) null, new IllegalStateException("inner"));

        assertThat(NativeErrors.message(wrapper)).isEqualTo("inner");
        assertThat(NativeErrors.message(new IndexOutOfBoundsException()))
                .isEqualTo("IndexOutOfBoundsException");
    }

    @ParameterizedTest
    @ValueSource(strings = {
        // libtorch 2.x CPU allocator (the exact text this engine's libtorch gives, see PyTorchEngineTest)
        "[enforce fail at alloc_cpu.cpp:119] err == 0. DefaultCPUAllocator: can't allocate memory: you tried to"
                + " allocate 4503599627370496 bytes. Error code 12 (Cannot allocate memory)",
        // older libtorch CPU allocator
        "[enforce fail at CPUAllocator.cpp:68] . DefaultCPUAllocator: not enough memory: you tried to allocate"
                + " 40000000000 bytes.",
        // CUDA caching allocator
        "CUDA out of memory. Tried to allocate 2.00 GiB (GPU 0; 15.78 GiB total capacity; 13.20 GiB already"
                + " allocated; 1.04 GiB free; 13.60 GiB reserved in total by PyTorch)",
        "torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 20.00 MiB",
        "CUDA error: out of memory\nCUDA kernel errors might be asynchronously reported",
        "cuDNN error: CUDNN_STATUS_NOT_ENOUGH_MEMORY",
        "CUDA error: CUBLAS_STATUS_ALLOC_FAILED when calling `cublasCreate(handle)`",
        "std::bad_alloc",
    })
    void outOfMemoryMessagesAreRecognized(String message) {
        assertThat(NativeErrors.outOfMemory(message)).isTrue();
        assertThat(NativeErrors.outOfMemory(new RuntimeException(message))).isTrue();
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "RuntimeError: t() expects a tensor with <= 2 dimensions, but self is 3D",
        "mat1 and mat2 shapes cannot be multiplied (1x63 and 64x1024)",
        "index 5 is out of range for dimension 0 with size 4",
        "out of bounds memory access",
        "PytorchStreamReader failed locating file constants.pkl: file not found",
        "",
    })
    void otherMessagesAreNotOutOfMemory(String message) {
        assertThat(NativeErrors.outOfMemory(message)).isFalse();
        assertThat(NativeErrors.outOfMemory(new RuntimeException(message))).isFalse();
    }

    @Test
    void outOfMemoryInsideATorchScriptTracebackIsRecognized() {
        String message = """
                The following operation failed in the TorchScript interpreter.
                Traceback of TorchScript, serialized code (most recent call last):
                  File "code/__torch__.py", line 8, in forward
                    return torch.matmul(x, w)
                           ~~~~~~~~~~~~ <--- HERE
                RuntimeError: [enforce fail at alloc_cpu.cpp:119] err == 0. DefaultCPUAllocator: can't allocate memory
                """;

        assertThat(NativeErrors.outOfMemory(new RuntimeException(message))).isTrue();
    }

    @Test
    void causesAndJavasOwnOutOfMemoryErrorCount() {
        assertThat(NativeErrors.outOfMemory(new RuntimeException("forward failed",
                new IllegalStateException("CUDA out of memory. Tried to allocate 1 GiB")))).isTrue();
        assertThat(NativeErrors.outOfMemory(new OutOfMemoryError("Java heap space"))).isTrue();
        assertThat(NativeErrors.outOfMemory(new OutOfMemoryError())).isTrue();
        assertThat(NativeErrors.outOfMemory(new RuntimeException((String) null))).isFalse();
        assertThat(NativeErrors.outOfMemory((String) null)).isFalse();
    }
}

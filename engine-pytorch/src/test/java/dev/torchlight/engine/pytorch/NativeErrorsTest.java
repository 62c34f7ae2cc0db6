package dev.torchlight.engine.pytorch;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

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
}

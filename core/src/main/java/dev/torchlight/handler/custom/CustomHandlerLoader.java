package dev.torchlight.handler.custom;

import dev.torchlight.api.ServingException;
import dev.torchlight.api.Tensor;
import dev.torchlight.config.HandlerSpec;
import dev.torchlight.handler.Handler;
import dev.torchlight.handler.HandlerContext;
import dev.torchlight.handler.HandlerItem;
import dev.torchlight.handler.ModelRunner;
import java.io.IOException;
import java.lang.reflect.Constructor;
import java.lang.reflect.InvocationTargetException;
import java.net.MalformedURLException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Loads a team's {@link Handler} from a jar in the model's directory, in a class loader of its own
 * per model: the handler sees the server's handler API (and whatever the jar bundles), other
 * models' handlers cannot see it, and closing the model closes the loader. Only called when the
 * server allows custom handlers.
 */
public final class CustomHandlerLoader {
    private static final Logger LOG = LoggerFactory.getLogger(CustomHandlerLoader.class);

    private CustomHandlerLoader() {}

    /** @throws ServingException.NotReady naming the jar or class that could not be loaded, and why */
    public static Handler load(HandlerContext context, HandlerSpec.Custom spec) {
        String model = context.config().name();
        Path jar = jarInside(context.modelDirectory(), spec.jar(), model);
        URLClassLoader loader;
        try {
            loader = new URLClassLoader("handler-" + model, new URL[] {jar.toUri().toURL()},
                    Handler.class.getClassLoader());
        } catch (MalformedURLException e) {
            throw notReady(model, "cannot open " + jar + ": " + e.getMessage());
        }
        try {
            Class<?> type = Class.forName(spec.className(), true, loader);
            if (!Handler.class.isAssignableFrom(type)) {
                throw notReady(model, spec.className() + " in " + spec.jar() + " does not implement "
                        + Handler.class.getName());
            }
            Handler handler = instantiate(type.asSubclass(Handler.class), context, model);
            LOG.info("model {}: loaded custom handler {} from {}", model, spec.className(), jar);
            return new Isolated(handler, loader);
        } catch (ClassNotFoundException e) {
            closeQuietly(loader);
            throw notReady(model, "class " + spec.className() + " not found in " + spec.jar());
        } catch (RuntimeException | LinkageError e) {
            closeQuietly(loader);
            if (e instanceof ServingException s) {
                throw s;
            }
            throw notReady(model, "cannot load " + spec.className() + " from " + spec.jar() + ": " + e);
        }
    }

    private static Path jarInside(Path directory, String relative, String model) {
        try {
            Path root = directory.toRealPath();
            Path jar = root.resolve(relative).normalize();
            if (!Files.isRegularFile(jar)) {
                throw notReady(model, "handler jar " + relative + " not found in " + directory);
            }
            Path real = jar.toRealPath();
            if (!real.startsWith(root)) {
                throw notReady(model, "handler jar " + relative + " resolves to " + real
                        + ", outside the model directory " + root);
            }
            return real;
        } catch (IOException e) {
            throw notReady(model, "cannot read handler jar " + relative + ": " + e.getMessage());
        }
    }

    private static Handler instantiate(Class<? extends Handler> type, HandlerContext context, String model) {
        try {
            try {
                Constructor<? extends Handler> withContext = type.getConstructor(HandlerContext.class);
                return withContext.newInstance(context);
            } catch (NoSuchMethodException e) {
                return type.getConstructor().newInstance();
            }
        } catch (NoSuchMethodException e) {
            throw notReady(model, type.getName() + " needs a public constructor taking a HandlerContext,"
                    + " or a public no-argument constructor");
        } catch (InvocationTargetException e) {
            throw notReady(model, type.getName() + "'s constructor failed: " + e.getCause());
        } catch (ReflectiveOperationException e) {
            throw notReady(model, "cannot create " + type.getName() + ": " + e);
        }
    }

    private static ServingException.NotReady notReady(String model, String why) {
        return new ServingException.NotReady("model '" + model + "': custom handler: " + why);
    }

    private static void closeQuietly(URLClassLoader loader) {
        try {
            loader.close();
        } catch (IOException e) {
            LOG.debug("closing a handler class loader failed", e);
        }
    }

    /** The handler with its class loader, which is closed after it; calls run with the loader as context loader. */
    private record Isolated(Handler handler, URLClassLoader loader) implements Handler {
        @Override
        public List<Tensor> preprocess(HandlerItem item) {
            return within(() -> handler.preprocess(item));
        }

        @Override
        public CompletableFuture<List<Tensor>> inference(List<Tensor> inputs, ModelRunner model) {
            return within(() -> handler.inference(inputs, model));
        }

        @Override
        public Object postprocess(List<Tensor> outputs) {
            return within(() -> handler.postprocess(outputs));
        }

        @Override
        public void close() {
            try {
                within(() -> {
                    handler.close();
                    return null;
                });
            } finally {
                closeQuietly(loader);
            }
        }

        private <T> T within(java.util.function.Supplier<T> call) {
            Thread thread = Thread.currentThread();
            ClassLoader previous = thread.getContextClassLoader();
            thread.setContextClassLoader(loader);
            try {
                return call.get();
            } finally {
                thread.setContextClassLoader(previous);
            }
        }
    }
}

package dev.torchlight.handler;

import dev.torchlight.api.ServingException;
import dev.torchlight.config.HandlerConfig;
import dev.torchlight.config.HandlerSpec;
import dev.torchlight.handler.custom.CustomHandlerLoader;
import dev.torchlight.handler.image.ImageClassifierHandler;

/** Creates the handler a model's config names. */
@FunctionalInterface
public interface HandlerFactory {
    /**
     * @return the handler, or null for the tensor handler, which needs no object: tensors pass
     *     straight to the model
     * @throws ServingException.NotReady when the handler cannot be created, naming why
     */
    Handler create(HandlerContext context);

    /**
     * The built-in handlers, and custom handlers from jars when the settings allow them
     * ({@code --allow-custom-handlers}).
     */
    static HandlerFactory standard(HandlerConfig settings) {
        boolean allowCustom = settings.allowCustomHandlers();
        return context -> {
            String model = context.config().name();
            return switch (context.config().handler()) {
                case HandlerSpec.Tensors t -> null;
                case HandlerSpec.ImageClassifier spec -> ImageClassifierHandler.create(context, spec);
                case HandlerSpec.Custom spec -> {
                    if (!allowCustom) {
                        throw new ServingException.NotReady("model '" + model + "' uses the custom handler "
                                + spec.className() + " from " + spec.jar() + ", but this server does not run custom"
                                + " code; start it with --allow-custom-handlers (see docs/SECURITY.md) to load it");
                    }
                    yield CustomHandlerLoader.load(context, spec);
                }
            };
        };
    }
}

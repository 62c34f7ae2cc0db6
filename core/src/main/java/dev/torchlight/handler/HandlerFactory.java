package dev.torchlight.handler;

import dev.torchlight.api.ServingException;
import dev.torchlight.config.HandlerSpec;
import dev.torchlight.handler.custom.CustomHandlerLoader;
import dev.torchlight.handler.image.ImageClassifierHandler;

/** Creates the handler a model's config names. */
public final class HandlerFactory {
    private final boolean allowCustom;

    /** @param allowCustom whether custom handler jars may be loaded ({@code --allow-custom-handlers}) */
    public HandlerFactory(boolean allowCustom) {
        this.allowCustom = allowCustom;
    }

    /**
     * @return the handler, or null for the tensor handler, which needs no object: tensors pass
     *     straight to the model
     * @throws ServingException.NotReady when the handler cannot be created (custom handlers not
     *     allowed, jar or class missing, labels unreadable), naming why
     */
    public Handler create(HandlerContext context) {
        String model = context.config().name();
        return switch (context.config().handler()) {
            case HandlerSpec.Tensors t -> null;
            case HandlerSpec.ImageClassifier spec -> ImageClassifierHandler.create(context, spec);
            case HandlerSpec.Custom spec -> {
                if (!allowCustom) {
                    throw new ServingException.NotReady("model '" + model + "' uses the custom handler "
                            + spec.className() + " from " + spec.jar() + ", but this server does not run custom code;"
                            + " start it with --allow-custom-handlers (see docs/SECURITY.md) to load it");
                }
                yield CustomHandlerLoader.load(context, spec);
            }
        };
    }
}

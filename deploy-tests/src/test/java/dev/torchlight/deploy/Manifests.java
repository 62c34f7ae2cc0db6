package dev.torchlight.deploy;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceAccount;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.autoscaling.v2.HorizontalPodAutoscaler;
import io.fabric8.openshift.api.model.monitoring.v1.PodMonitor;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.snakeyaml.engine.v2.api.Load;
import org.snakeyaml.engine.v2.api.LoadSettings;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.DeserializationFeature;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.MapperFeature;
import tools.jackson.databind.cfg.CoercionAction;
import tools.jackson.databind.cfg.CoercionInputShape;
import tools.jackson.databind.cfg.MapperConfig;
import tools.jackson.databind.introspect.Annotated;
import tools.jackson.databind.introspect.JacksonAnnotationIntrospector;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;
import tools.jackson.databind.type.LogicalType;

/**
 * Reads deployment manifests strictly: YAML without duplicate keys, then typed models in which an
 * unknown field, a number where a string belongs or a missing required value is an error.
 *
 * <p>fabric8's model classes keep unknown fields in an {@code additionalProperties} map (a
 * {@code @JsonAnySetter}) rather than failing, so {@link #STRICT} reads them with any-setters turned
 * off, and {@link #assertNoAdditionalProperties} checks the whole object graph as well.
 */
final class Manifests {
    /** The objects the Helm chart may render, by apiVersion/kind. */
    static final Map<String, Class<? extends HasMetadata>> KUBERNETES_KINDS = Map.of(
            "v1/Service", Service.class,
            "v1/ServiceAccount", ServiceAccount.class,
            "apps/v1/Deployment", Deployment.class,
            "autoscaling/v2/HorizontalPodAutoscaler", HorizontalPodAutoscaler.class,
            "monitoring.coreos.com/v1/PodMonitor", PodMonitor.class);

    /** Any-setters off: every field must be one the model declares. */
    private static final class NoAnySetter extends JacksonAnnotationIntrospector {
        private static final long serialVersionUID = 1L;

        @Override
        public Boolean hasAnySetter(MapperConfig<?> config, Annotated a) {
            return Boolean.FALSE;
        }
    }

    static final JsonMapper STRICT = JsonMapper.builder()
            .annotationIntrospector(new NoAnySetter())
            .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .disable(MapperFeature.ALLOW_COERCION_OF_SCALARS)
            // Kubernetes rejects 8082 where a string belongs (an annotation, a label, a KEDA setting).
            .withCoercionConfig(LogicalType.Textual, c -> c
                    .setCoercion(CoercionInputShape.Integer, CoercionAction.Fail)
                    .setCoercion(CoercionInputShape.Float, CoercionAction.Fail)
                    .setCoercion(CoercionInputShape.Boolean, CoercionAction.Fail))
            .build();

    /** How fabric8 itself reads: unknown fields land in additionalProperties. */
    static final JsonMapper LENIENT = JsonMapper.builder().build();

    private Manifests() {
    }

    /** The repository's root (the module runs in deploy-tests/). */
    static Path root() {
        Path dir = Path.of("").toAbsolutePath();
        while (dir != null && !Files.isRegularFile(dir.resolve("deploy-tests/pom.xml"))) {
            dir = dir.getParent();
        }
        if (dir == null) {
            throw new IllegalStateException("not inside the torchlight repository: " + Path.of("").toAbsolutePath());
        }
        return dir;
    }

    static String read(Path file) {
        try {
            return Files.readString(file);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Every non-empty document of a YAML stream, as JSON trees; duplicate keys are an error. */
    static List<ObjectNode> documents(String yaml) {
        Load load = new Load(LoadSettings.builder().setAllowDuplicateKeys(false).build());
        List<ObjectNode> docs = new ArrayList<>();
        for (Object doc : load.loadAllFromString(yaml)) {
            if (doc == null) {
                continue;
            }
            JsonNode node = STRICT.valueToTree(doc);
            if (!(node instanceof ObjectNode object)) {
                throw new AssertionError("a YAML document that is not a mapping: " + node);
            }
            docs.add(object);
        }
        return docs;
    }

    /** The single document of a YAML stream. */
    static ObjectNode document(String yaml) {
        List<ObjectNode> docs = documents(yaml);
        if (docs.size() != 1) {
            throw new AssertionError("expected one YAML document, found " + docs.size());
        }
        return docs.getFirst();
    }

    static String typeOf(JsonNode doc) {
        return doc.path("apiVersion").asString("") + "/" + doc.path("kind").asString("");
    }

    /** {@code node} as {@code type}, strictly; the error names where in {@code what} it went wrong. */
    static <T> T strict(JsonNode node, Class<T> type, String what) {
        try {
            T value = STRICT.treeToValue(node, type);
            assertNoAdditionalProperties(value, what);
            return value;
        } catch (JacksonException e) {
            throw new AssertionError(what + " is not a valid " + type.getSimpleName() + ": " + e.getOriginalMessage()
                    + " at " + e.getPathReference(), e);
        }
    }

    /** A Kubernetes object read into its fabric8 class, strictly. */
    static HasMetadata kubernetesObject(JsonNode doc, String what) {
        Class<? extends HasMetadata> type = KUBERNETES_KINDS.get(typeOf(doc));
        if (type == null) {
            throw new AssertionError(what + ": an object of an unexpected kind " + typeOf(doc));
        }
        return strict(doc, type, what + " " + doc.path("kind").asString() + " "
                + doc.path("metadata").path("name").asString());
    }

    /** One object of a record type with an inline part: the record's own fields, and the rest. */
    record Split<T, I>(T own, I inline) {
    }

    /**
     * Reads {@code node} as a KServe type that embeds a Kubernetes one inline (Go's {@code json:",inline"}):
     * the fields named by {@code own}'s record components go to {@code own}, every other field must be
     * one of {@code inline}'s.
     */
    static <T extends Record, I> Split<T, I> split(JsonNode node, Class<T> own, Class<I> inline, String what) {
        Set<String> names = new java.util.HashSet<>();
        for (var component : own.getRecordComponents()) {
            var property = component.getAnnotation(com.fasterxml.jackson.annotation.JsonProperty.class);
            names.add(property != null ? property.value() : component.getName());
        }
        ObjectNode mine = STRICT.createObjectNode();
        ObjectNode rest = STRICT.createObjectNode();
        for (Map.Entry<String, JsonNode> field : node.properties()) {
            (names.contains(field.getKey()) ? mine : rest).set(field.getKey(), field.getValue());
        }
        return new Split<>(strict(mine, own, what), strict(rest, inline, what));
    }

    /**
     * Fails when any fabric8 object reachable from {@code value} holds unknown fields in its
     * additionalProperties map.
     */
    static void assertNoAdditionalProperties(Object value, String what) {
        walk(value, what, Collections.newSetFromMap(new IdentityHashMap<>()));
    }

    private static void walk(Object value, String path, Set<Object> seen) {
        if (value == null || !seen.add(value)) {
            return;
        }
        if (value instanceof Map<?, ?> map) {
            for (Map.Entry<?, ?> e : map.entrySet()) {
                walk(e.getValue(), path + "." + e.getKey(), seen);
            }
            return;
        }
        if (value instanceof Iterable<?> items) {
            int i = 0;
            for (Iterator<?> it = items.iterator(); it.hasNext(); i++) {
                walk(it.next(), path + "[" + i + "]", seen);
            }
            return;
        }
        Class<?> type = value.getClass();
        boolean model = type.getPackageName().startsWith("io.fabric8.");
        if (!model && !type.isRecord()) {
            return;
        }
        for (Method getter : type.getMethods()) {
            if (getter.getParameterCount() != 0 || Modifier.isStatic(getter.getModifiers())
                    || getter.getDeclaringClass() == Object.class || getter.getReturnType().isPrimitive()) {
                continue;
            }
            String name = getter.getName();
            boolean accessor = type.isRecord() ? isComponent(type, name) : name.startsWith("get");
            if (!accessor) {
                continue;
            }
            Object child;
            try {
                child = getter.invoke(value);
            } catch (ReflectiveOperationException e) {
                throw new IllegalStateException(path + "." + name, e);
            }
            if (name.equals("getAdditionalProperties") && child instanceof Map<?, ?> extra && !extra.isEmpty()) {
                throw new AssertionError(path + " (" + type.getSimpleName() + ") has fields its model does not know: "
                        + new LinkedHashMap<>(extra).keySet());
            }
            walk(child, path + "." + name.replaceFirst("^get", ""), seen);
        }
    }

    private static boolean isComponent(Class<?> record, String name) {
        for (var component : record.getRecordComponents()) {
            if (component.getName().equals(name)) {
                return true;
            }
        }
        return false;
    }
}

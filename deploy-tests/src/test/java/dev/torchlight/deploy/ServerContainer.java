package dev.torchlight.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.torchlight.config.ServerConfig;
import dev.torchlight.server.cli.ServeSettings;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerPort;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.Probe;
import io.fabric8.kubernetes.api.model.SecurityContext;
import io.fabric8.kubernetes.api.model.VolumeMount;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** What every torchlight container must be, from the Helm chart or a KServe runtime. */
final class ServerContainer {
    static final String SUBCOMMAND = "serve";

    private ServerContainer() {
    }

    /**
     * The container's arguments and environment as the server resolves them at start-up;
     * {@code placeholders} replaces KServe's template fields such as {@code {{.Name}}}.
     */
    static ServerConfig settings(Container container, Map<String, String> placeholders) {
        List<String> args = container.getArgs().stream().map(arg -> {
            String out = arg;
            for (Map.Entry<String, String> p : placeholders.entrySet()) {
                out = out.replace(p.getKey(), p.getValue());
            }
            return out;
        }).toList();
        // Container args replace the image's command (`serve`), so they name the subcommand first.
        assertThat(args).as("container args").first().isEqualTo(SUBCOMMAND);
        Map<String, String> env = new LinkedHashMap<>(ImageContract.defaultEnvironment());
        for (EnvVar var : container.getEnv()) {
            if (var.getValue() != null) {
                env.put(var.getName(), var.getValue());
            }
        }
        assertThat(container.getCommand()).as("the image's entrypoint runs `serve`; only args are given").isEmpty();
        return ServeSettings.resolve(args.subList(1, args.size()), env);
    }

    /** The port named {@code name}. */
    static int port(Container container, String name) {
        return container.getPorts().stream().filter(p -> name.equals(p.getName())).findFirst()
                .map(ContainerPort::getContainerPort)
                .orElseThrow(() -> new AssertionError("no container port named " + name + " in " + container.getPorts()));
    }

    /** The number a probe's port means, by number or by the name of a container port. */
    static int probePort(Container container, Probe probe) {
        assertThat(probe.getHttpGet()).as("an HTTP probe").isNotNull();
        IntOrString port = probe.getHttpGet().getPort();
        return port.getIntVal() != null ? port.getIntVal() : port(container, port.getStrVal());
    }

    /**
     * Runs unprivileged on a read-only root with /tmp writable, listens where its ports say, and
     * is probed on the v2 health paths of its HTTP listener.
     */
    static void assertServes(Container container, ServerConfig settings, Boolean podRunAsNonRoot) {
        assertThat(settings.host()).as("listens on the pod's addresses").isEqualTo("0.0.0.0");
        assertThat(container.getPorts()).extracting(ContainerPort::getContainerPort).contains(settings.httpPort());
        assertThat(container.getPorts()).allSatisfy(p -> assertThat(p.getContainerPort())
                .as("container port %s is a port the server listens on", p.getName())
                .isIn(settings.httpPort(), settings.grpcPort(), settings.metricsPort(), settings.management().port()));
        assertThat(settings.metricsPort()).as("metrics on").isPositive();
        assertThat(List.of(settings.httpPort(), settings.grpcPort(), settings.metricsPort(), settings.management().port()))
                .as("four listeners, four ports").doesNotHaveDuplicates();

        assertThat(container.getStartupProbe()).as("startup probe").isNotNull();
        assertThat(container.getLivenessProbe()).as("liveness probe").isNotNull();
        assertThat(container.getReadinessProbe()).as("readiness probe").isNotNull();
        assertThat(container.getStartupProbe().getHttpGet().getPath()).isEqualTo("/v2/health/live");
        assertThat(container.getLivenessProbe().getHttpGet().getPath()).isEqualTo("/v2/health/live");
        assertThat(container.getReadinessProbe().getHttpGet().getPath()).isEqualTo("/v2/health/ready");
        for (Probe probe : List.of(container.getStartupProbe(), container.getLivenessProbe(), container.getReadinessProbe())) {
            assertThat(probePort(container, probe)).as("probes go to the HTTP listener").isEqualTo(settings.httpPort());
        }
        Probe startup = container.getStartupProbe();
        assertThat(startup.getPeriodSeconds() * startup.getFailureThreshold())
                .as("seconds the startup probe allows for loading models").isGreaterThanOrEqualTo(300);

        SecurityContext security = container.getSecurityContext();
        assertThat(security).as("container securityContext").isNotNull();
        assertThat(security.getAllowPrivilegeEscalation()).isFalse();
        assertThat(security.getReadOnlyRootFilesystem()).isTrue();
        assertThat(security.getCapabilities().getDrop()).containsExactly("ALL");
        assertThat(security.getCapabilities().getAdd()).isEmpty();
        assertThat(security.getPrivileged()).isNotEqualTo(Boolean.TRUE);
        boolean nonRoot = Boolean.TRUE.equals(security.getRunAsNonRoot()) || Boolean.TRUE.equals(podRunAsNonRoot);
        assertThat(nonRoot).as("runAsNonRoot").isTrue();

        assertThat(container.getVolumeMounts()).extracting(VolumeMount::getMountPath)
                .as("a writable /tmp on the read-only root (key file, JVM perf data, archives)").contains("/tmp");
        assertThat(settings.accessLog()).as("no access log under the read-only working directory")
                .satisfiesAnyOf(log -> assertThat(log).isNull(), log -> assertThat(log.isAbsolute()).isTrue());
        if (settings.security().tokenAuth() && settings.security().keyFile() != null) {
            Path keys = settings.security().keyFile();
            assertThat(container.getVolumeMounts()).as("a writable volume holds the key file %s", keys)
                    .anySatisfy(m -> {
                        assertThat(keys.startsWith(m.getMountPath())).isTrue();
                        assertThat(m.getReadOnly()).isNotEqualTo(Boolean.TRUE);
                    });
        }
        assertThat(container.getResources().getRequests()).as("resource requests").containsKeys("cpu", "memory");
        assertThat(container.getResources().getLimits()).as("a memory limit").containsKey("memory");
    }
}

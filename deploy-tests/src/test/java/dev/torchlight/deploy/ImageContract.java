package dev.torchlight.deploy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import javax.xml.parsers.DocumentBuilderFactory;
import org.w3c.dom.Element;
import org.w3c.dom.Node;
import org.w3c.dom.NodeList;

/**
 * What the manifests rely on in the container image, as image/pom.xml (Jib) declares it: the
 * entrypoint, the command that container args replace, the user and the default environment. Null
 * where the image module is not in this checkout.
 */
record ImageContract(List<String> entrypoint, List<String> command, String user, Map<String, String> environment) {
    static final Path POM = Manifests.root().resolve("image/pom.xml");

    static ImageContract load() {
        if (!Files.isRegularFile(POM)) {
            return null;
        }
        try {
            DocumentBuilderFactory factory = DocumentBuilderFactory.newInstance();
            factory.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
            Element root = factory.newDocumentBuilder().parse(POM.toFile()).getDocumentElement();
            Element container = only(root.getElementsByTagName("container"));
            Map<String, String> env = new LinkedHashMap<>();
            Element environment = child(container, "environment");
            if (environment != null) {
                for (Node n = environment.getFirstChild(); n != null; n = n.getNextSibling()) {
                    if (n instanceof Element e) {
                        env.put(e.getTagName(), e.getTextContent().strip());
                    }
                }
            }
            Element user = child(container, "user");
            return new ImageContract(args(child(container, "entrypoint")), args(child(container, "args")),
                    user == null ? null : user.getTextContent().strip(), env);
        } catch (Exception e) {
            throw new IllegalStateException("cannot read " + POM, e);
        }
    }

    /** The environment the image gives every container. */
    static Map<String, String> defaultEnvironment() {
        ImageContract image = load();
        return image == null ? Map.of() : image.environment();
    }

    private static List<String> args(Element list) {
        List<String> out = new ArrayList<>();
        if (list != null) {
            NodeList args = list.getElementsByTagName("arg");
            for (int i = 0; i < args.getLength(); i++) {
                out.add(args.item(i).getTextContent().strip());
            }
        }
        return out;
    }

    private static Element child(Element parent, String name) {
        for (Node n = parent.getFirstChild(); n != null; n = n.getNextSibling()) {
            if (n instanceof Element e && e.getTagName().equals(name)) {
                return e;
            }
        }
        return null;
    }

    private static Element only(NodeList list) {
        if (list.getLength() != 1) {
            throw new IllegalStateException(POM + ": expected one <container>, found " + list.getLength());
        }
        return (Element) list.item(0);
    }
}

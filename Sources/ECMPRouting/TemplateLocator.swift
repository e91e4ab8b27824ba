import ECMPCore
import Foundation

/// Finds quagga-templates/ at run time. Operators may keep their own copy
/// (`routing.templates_dir`); packaged installs use /usr/share/ecmpd; a
/// build tree finds the repository's own folder.
public enum TemplateLocator {
    public static func searchPath(configured: String?) -> [String] {
        var path: [String] = []
        if let configured { return [configured] }
        if let environment = ProcessInfo.processInfo.environment["ECMPD_TEMPLATES"] { path.append(environment) }
        let executable = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        path.append(executable.appendingPathComponent("../share/ecmpd/quagga-templates").standardized.path)
        path.append("/usr/share/ecmpd/quagga-templates")
        // The source tree this binary was built from (development and tests).
        let sourceRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        path.append(sourceRoot.appendingPathComponent("quagga-templates").path)
        return path
    }

    public static func templates(for role: RoutingRole, configured: String?) throws -> RoutingRenderer.Templates {
        let candidates = searchPath(configured: configured)
        for directory in candidates {
            let roleDirectory = "\(directory)/\(role.rawValue)"
            guard FileManager.default.fileExists(atPath: "\(roleDirectory)/ospfd.conf.mustache") else { continue }
            return RoutingRenderer.Templates(
                zebra: try String(contentsOfFile: "\(roleDirectory)/zebra.conf.mustache", encoding: .utf8),
                ospfd: try String(contentsOfFile: "\(roleDirectory)/ospfd.conf.mustache", encoding: .utf8)
            )
        }
        throw RoutingFileError.templatesNotFound(role: role, searched: candidates)
    }
}

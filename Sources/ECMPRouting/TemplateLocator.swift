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
        let executable = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
            .deletingLastPathComponent()
        path.append(executable.appendingPathComponent("../share/ecmpd/quagga-templates").standardized.path)
        path.append("/usr/share/ecmpd/quagga-templates")
        // The source tree this binary was built from (development and tests).
        let sourceRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        path.append(sourceRoot.appendingPathComponent("quagga-templates").path)
        return path
    }

    /// The templates of the first folder on the search path that has
    /// them. As root, that folder must be root's (see `rootOnlyTemplates`).
    public static func templates(for role: RoutingRole, configured: String?) throws -> RoutingRenderer.Templates {
        let candidates = searchPath(configured: configured)
        for directory in candidates {
            let roleDirectory = "\(directory)/\(role.rawValue)"
            guard FileManager.default.fileExists(atPath: "\(roleDirectory)/ospfd.conf.mustache") else { continue }
            if geteuid() == 0 { return try rootOnlyTemplates(in: directory, role: role) }
            // bfdd.conf's and ospf6d.conf's templates are optional: a folder
            // kept from before BFD or IPv6 still renders; the renderer names
            // the missing one if ospf.bfd or an IPv6 VIP needs it.
            func optional(_ name: String) throws -> String? {
                let path = "\(roleDirectory)/\(name)"
                return FileManager.default.fileExists(atPath: path)
                    ? try String(contentsOfFile: path, encoding: .utf8) : nil
            }
            return RoutingRenderer.Templates(
                zebra: try String(contentsOfFile: "\(roleDirectory)/zebra.conf.mustache", encoding: .utf8),
                ospfd: try String(contentsOfFile: "\(roleDirectory)/ospfd.conf.mustache", encoding: .utf8),
                bfdd: try optional("bfdd.conf.mustache"), ospf6d: try optional("ospf6d.conf.mustache")
            )
        }
        throw RoutingFileError.templatesNotFound(role: role, searched: candidates)
    }

    /// Root installs what the templates render, so as root they are read
    /// only from a folder, role folder and files that root owns and no
    /// one else can write: otherwise any user who can write them (through
    /// `$ECMPD_TEMPLATES` or a careless `templates_dir`) adds routing
    /// commands to the installed ospfd.conf. Each is checked on the
    /// descriptor it is read through, so a rename in between cannot swap
    /// in an unchecked file.
    static func rootOnlyTemplates(in directory: String, role: RoutingRole) throws -> RoutingRenderer.Templates {
        let top = try DirectoryHandle.open(directory, followingSymlink: true, purpose: "open the templates directory")
        try requireRootOnly(try top.status(), top.path)
        let roleDirectory = try top.openDirectory(role.rawValue)
        try requireRootOnly(try roleDirectory.status(), roleDirectory.path)
        func read(_ name: String, optional: Bool = false) throws -> String? {
            guard let file = try roleDirectory.openFile(name) else {
                if optional { return nil }
                let path = roleDirectory.entryPath(name)
                throw RoutingFileError.fileSystem(operation: "open the template", path: path, errno: ENOENT)
            }
            let info = try file.status()
            guard info.st_mode & S_IFMT == S_IFREG else {
                throw RoutingFileError.unsafeTemplates(path: file.path, reason: "it is not a regular file")
            }
            try requireRootOnly(info, file.path)
            return String(decoding: try file.readAll(), as: UTF8.self)
        }
        return RoutingRenderer.Templates(
            zebra: try read("zebra.conf.mustache")!, ospfd: try read("ospfd.conf.mustache")!,
            bfdd: try read("bfdd.conf.mustache", optional: true),
            ospf6d: try read("ospf6d.conf.mustache", optional: true))
    }

    static func requireRootOnly(_ info: stat, _ path: String) throws {
        if info.st_uid != 0 {
            let owner = RoutingConfigInstaller.userName(info.st_uid)
            throw RoutingFileError.unsafeTemplates(path: path, reason: "it is owned by \(owner), not root")
        }
        if info.st_mode & 0o022 != 0 {
            let mode = String(format: "%04o", info.st_mode & 0o7777)
            let reason = "users other than root can write it (mode \(mode))"
            throw RoutingFileError.unsafeTemplates(path: path, reason: reason)
        }
    }
}

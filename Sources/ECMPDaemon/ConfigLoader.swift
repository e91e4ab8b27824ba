import ECMPCore
import Foundation

/// Reads a config file for `ecmpd run` (start and SIGHUP) and the CLI: its
/// bytes judged by `SourceText` (at most 16 MiB, UTF-8, with the line and
/// byte offset of the first bad byte), then every problem with file, line
/// and field (`ConfigParser`).
public enum ConfigLoader {
    public static func read(_ path: String) throws(ConfigErrors) -> LoadedConfig {
        try ConfigParser.parse(try text(path), file: path)
    }

    /// The text of a config file (ecmpd YAML or keepalived.conf), or a
    /// problem naming it.
    public static func text(_ path: String) throws(ConfigErrors) -> String {
        guard let data = FileManager.default.contents(atPath: path) else {
            var isDirectory: ObjCBool = false
            let exists = FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory)
            let reason =
                !exists ? "no such file" : isDirectory.boolValue ? "is a directory" : "cannot read it (permissions?)"
            throw ConfigErrors([ConfigProblem(file: path, message: reason)])
        }
        return try SourceText.decode([UInt8](data), file: path)
    }
}

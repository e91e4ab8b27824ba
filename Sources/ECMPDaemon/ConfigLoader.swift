import ECMPCore
import Foundation

/// Reads a config file: at most 16 MiB of UTF-8 YAML, every problem with
/// file, line and field (`ConfigParser`).
public enum ConfigLoader {
    public static func read(_ path: String) throws(ConfigErrors) -> LoadedConfig {
        guard let data = FileManager.default.contents(atPath: path) else {
            let reason = FileManager.default.fileExists(atPath: path) ? "cannot read it (permissions?)" : "no such file"
            throw ConfigErrors([ConfigProblem(file: path, message: reason)])
        }
        guard data.count <= 16 << 20 else {
            throw ConfigErrors([ConfigProblem(file: path, message: "\(data.count) bytes is larger than the 16 MiB a config may have")])
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw ConfigErrors([ConfigProblem(file: path, message: "not valid UTF-8 text")])
        }
        return try ConfigParser.parse(text, file: path)
    }
}

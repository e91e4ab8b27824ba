import ECMPCore
import Foundation

/// Reading the config file for a subcommand, with errors printed the way
/// compilers print them, so editors can jump to the line.
enum ConfigFile {
    static let defaultPath = "/etc/ecmpd/ecmpd.yaml"

    static func read(_ path: String) throws(ConfigErrors) -> LoadedConfig {
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

    /// Loads or prints every problem and exits 1.
    static func loadOrExit(_ path: String) -> LoadedConfig {
        do {
            let loaded = try read(path)
            for warning in loaded.warnings { Output.error(warning.description) }
            return loaded
        } catch {
            for problem in error.problems { Output.error(problem.description) }
            exit(1)
        }
    }
}

enum Output {
    static func error(_ line: String) {
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }

    static func json<T: Encodable>(_ value: T) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        print(String(decoding: try encoder.encode(value), as: UTF8.self))
    }

    static func systemHostname() -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        gethostname(&buffer, buffer.count)
        let name = buffer.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        return name.split(separator: ".").first.map(String.init) ?? name
    }
}

import ECMPCore
import ECMPDaemon
import Foundation

/// Reading the config file for a subcommand, with errors printed the way
/// compilers print them, so editors can jump to the line.
enum ConfigFile {
    static let defaultPath = "/etc/ecmpd/ecmpd.yaml"

    static func read(_ path: String) throws(ConfigErrors) -> LoadedConfig {
        try ConfigLoader.read(path)
    }

    /// The text of a config file (ecmpd YAML or keepalived.conf), or a
    /// problem naming it.
    static func text(_ path: String) throws(ConfigErrors) -> String {
        try ConfigLoader.text(path)
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

    static func systemHostname() -> String { HostName.system() }
}

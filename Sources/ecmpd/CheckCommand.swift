import ArgumentParser
import ECMPCore
import ECMPNetlink
import ECMPRouting
import Foundation

/// `ecmpd check`: every problem in the config, with file, line, field and
/// value; then, on a director, what only the live network can tell.
struct CheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Validate a config file; print every problem with its line. Exit 1 on any error."
    )

    @Option(name: .shortAndLong, help: "The config file.")
    var config: String = ConfigFile.defaultPath

    @Flag(help: "Skip the checks against this host's interfaces, routes, key file and templates.")
    var noNetwork = false

    @Option(help: "director or router: which side's rules apply.")
    var role: RoutingRole = .director

    @Flag(help: "Print the problems as JSON.")
    var json = false

    struct Report: Encodable {
        var file: String
        var valid: Bool
        var problems: [Problem]
        struct Problem: Encodable {
            var severity: String
            var line: Int?
            var column: Int?
            var field: String?
            var value: String?
            var message: String
        }
    }

    func run() throws {
        var problems: [ConfigProblem]
        var loadedConfig: LoadedConfig?
        do {
            let loaded = try ConfigFile.read(config)
            loadedConfig = loaded
            problems = loaded.warnings
        } catch {
            problems = error.problems
        }
        if let loaded = loadedConfig, !noNetwork {
            problems += hostProblems(loaded)
        }
        if role == .router {
            // A router is meant to be the DR and announces no VIPs itself.
            problems.removeAll { $0.severity == .warning && ($0.field == "ospf.priority" || $0.field?.hasSuffix(".services") == true) }
        }
        let errors = problems.filter { $0.severity == .error }.count
        if json {
            try Output.json(Report(file: config, valid: errors == 0, problems: problems.map {
                Report.Problem(severity: $0.severity.rawValue, line: $0.line, column: $0.column, field: $0.field, value: $0.value, message: $0.message)
            }))
        } else {
            for problem in problems { print(problem.description) }
            let warnings = problems.count - errors
            print("\(config): \(errors == 0 ? "valid" : "invalid"), \(errors) error\(errors == 1 ? "" : "s"), \(warnings) warning\(warnings == 1 ? "" : "s")")
        }
        if errors > 0 { throw ExitCode(1) }
    }

    /// Problems only this host can reveal: a VIP that is also an interface
    /// address, interfaces that do not exist, a key file others can read.
    func hostProblems(_ loaded: LoadedConfig) -> [ConfigProblem] {
        var problems: [ConfigProblem] = []
        do {
            let network = try NetworkDetector.snapshot()
            problems += NetworkConfigValidator.problems(loaded, network: network)
            do {
                _ = try OSPFPlanner.plan(role: role, config: loaded.config, network: network, systemHostname: Output.systemHostname())
            } catch {
                problems.append(loaded.problem(field: error.field, value: nil, message: error.message))
            }
        } catch {
            problems.append(ConfigProblem(.warning, file: loaded.file, message: "could not read this host's network (\(error)); skipped the checks against it"))
        }
        if let authentication = loaded.config.ospf.authentication {
            do { _ = try OSPFKeyFile.read(authentication.keyFile) } catch {
                problems.append(loaded.problem(field: "ospf.authentication.key_file", value: authentication.keyFile, message: error.description))
            }
        }
        do { _ = try TemplateLocator.templates(for: role, configured: loaded.config.routing.templatesDirectory) } catch {
            problems.append(loaded.problem(field: "routing.templates_dir", value: loaded.config.routing.templatesDirectory, message: "\(error)"))
        }
        return problems
    }
}

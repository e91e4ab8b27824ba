import ArgumentParser
import ECMPCore
import ECMPDaemon
import Foundation
import Logging

/// `ecmpd run`: the controller. Keeps each VIP on lo while its IPVS
/// backends are healthy, re-renders the routing configs when the networks
/// change, serves status and metrics, records every decision.
struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run the controller: VIPs on lo follow their IPVS backends' health (SIGHUP reloads, SIGTERM stops)."
    )

    @Option(name: .shortAndLong, help: "The config file.")
    var config: String = ConfigFile.defaultPath

    @Option(help: "trace, debug, info, notice, warning, error or critical.")
    var logLevel: Logger.Level = .info

    func run() async throws {
        // Until the reload service installs its handler, a SIGHUP (an early
        // `systemctl reload`) would end the process by default: ignore it.
        signal(SIGHUP, SIG_IGN)
        let loaded = ConfigFile.loadOrExit(config).keepingLocationsAboveRealServers()
        let level = logLevel
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "ecmpd")
        do {
            try await Daemon(loaded: loaded, logger: logger).run()
        } catch let errors as ConfigErrors {
            // As `ecmpd check` prints them: FILE:LINE:COLUMN, field, value.
            for problem in errors.problems { Output.error(problem.description) }
            Output.error("ecmpd run: \(config): refused; nothing was applied")
            throw ExitCode(1)
        } catch let error as Daemon.StartupError {
            Output.error("ecmpd run: \(error)")
            throw ExitCode(1)
        } catch {
            Output.error("ecmpd run: \(error)")
            throw ExitCode(1)
        }
    }
}

extension Logger.Level: @retroactive ExpressibleByArgument {}

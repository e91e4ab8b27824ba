import ArgumentParser
import ECMPCore
import Foundation

/// The `ecmpd` command. Exit status: 0 ok, 1 a problem was found, 2 usage.
struct Ecmpd: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ecmpd",
        abstract: "Keeps IPVS service VIPs announced over OSPF/ECMP while their backends are healthy.",
        version: ECMPDVersion.current,
        subcommands: [
            CheckCommand.self, RenderCommand.self, ImportKeepalivedCommand.self, IPVSCommand.self,
            RealServerCommand.self, LoopbackCommand.self, HistoryCommand.self, VerifyCommand.self,
            RunCommand.self, StatusCommand.self, DrainCommand.self, UndrainCommand.self,
        ]
    )
}

@main
enum Main {
    static func main() async {
        do {
            var command = try Ecmpd.parseAsRoot()
            if var asyncCommand = command as? AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            let code = Ecmpd.exitCode(for: error)
            if code == .validationFailure {
                FileHandle.standardError.write(Data((Ecmpd.fullMessage(for: error) + "\n").utf8))
                exit(2)
            }
            Ecmpd.exit(withError: error)
        }
    }
}

import ArgumentParser
import ECMPCore
import ECMPDaemon
import ECMPNetlink
import Foundation

/// `ecmpd realserver up|down|status`: the real-server side of IPVS direct
/// routing — each VIP as a /32 or /128 on lo (an IPv6 one with nodad),
/// arp_ignore=1 and arp_announce=2 on lo and all — over rtnetlink and
/// /proc/sys, undone exactly by `down` from
/// what `up` recorded.
struct RealServerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "realserver",
        abstract: "Prepare this host as a direct-routing real server (VIPs on lo, ARP sysctls), undo it, or check it.",
        discussion: """
            Needs root (CAP_NET_ADMIN). Works in the current network namespace. Exit status: 0 ok, \
            1 a change failed or (status) a piece is missing, 2 usage.
            """,
        subcommands: [RealServerUpCommand.self, RealServerDownCommand.self, RealServerStatusCommand.self]
    )

    /// Runs the kernel and file work of a subcommand; a failure prints what
    /// was attempted on what, and why, and exits 1.
    static func edge<Value>(_ body: () throws -> Value) throws -> Value {
        do {
            return try body()
        } catch {
            Output.error("error: \(error)")
            throw ExitCode(1)
        }
    }
}

/// The options every `realserver` subcommand takes.
struct RealServerOptions: ParsableArguments {
    @Option(
        name: .customLong("vip"), help: "A VIP this real server serves (repeat for several).",
        transform: VIPArgument.parseEitherFamily)
    var vips: [IPAddress] = []

    @Option(help: "Where `up` records what it changed, for `down`.")
    var stateFile = "/var/lib/ecmpd/realserver.json"

    @Flag(help: "Print the result as JSON.")
    var json = false

    var store: StateFile<RealServerRecord> { StateFile(path: stateFile) }
}

/// Parses a VIP given on the command line (a dotted quad) for `@Option(transform:)`.
/// A conformance of IPv4Address to ExpressibleByArgument would make
/// `IPv4Address.init` ambiguous in every file of this target.
enum VIPArgument {
    static func parse(_ text: String) throws -> IPv4Address {
        guard let address = IPv4Address(text) else {
            throw ValidationError("'\(text)' is not an IPv4 address (a.b.c.d)")
        }
        return address
    }

    /// A VIP of either family (`ecmpd loopback apply`).
    static func parseEitherFamily(_ text: String) throws -> IPAddress {
        guard let address = IPAddress(text) else {
            throw ValidationError("'\(text)' is not an IPv4 or IPv6 address")
        }
        return address
    }
}

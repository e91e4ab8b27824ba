import ArgumentParser
import ECMPNetlink

/// `ecmpd ipvs ...`: the kernel's IPVS table over generic netlink, read and
/// programmed without ipvsadm.
struct IPVSCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ipvs",
        abstract: "Read and program the kernel's IPVS table over generic netlink.",
        discussion:
            "Needs root (CAP_NET_ADMIN) and the ip_vs module. Exit status: 0 ok, 1 a kernel request failed, 2 usage.",
        subcommands: [IPVSListCommand.self, IPVSApplyCommand.self]
    )

    /// Runs kernel requests; a failure prints the request, its object and
    /// the kernel's reason ("load the ip_vs module", "unknown scheduler")
    /// and exits 1.
    static func kernel<Value>(_ body: () throws(NetlinkError) -> Value) throws -> Value {
        do {
            return try body()
        } catch {
            Output.error("error: \(error)")
            throw ExitCode(1)
        }
    }
}

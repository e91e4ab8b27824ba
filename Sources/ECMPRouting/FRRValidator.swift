import Foundation

/// Checks a rendered file with FRR's own parser before it is installed.
/// `vtysh -C -f FILE` exits non-zero on an unknown command; the daemon's
/// `-C` catches what only the daemon knows but always exits 0, so its
/// output is read instead (measured with FRR 8.4.4 on Debian 12). FRR's daemons
/// refuse to start, `-C` included, unless their euid is 0 (libfrr prints
/// "Operation not permitted" and exits 1), so a non-root ecmpd validates
/// with vtysh alone.
public struct FRRValidator: Sendable {
    public var vtysh: String
    public var daemonDirectory: String

    public init(vtysh: String = "/usr/bin/vtysh", daemonDirectory: String = "/usr/lib/frr") {
        self.vtysh = vtysh
        self.daemonDirectory = daemonDirectory
    }

    /// Checks the open file `descriptor`, which FRR reads as
    /// /proc/self/fd/3 (`ProcessRunner`'s `passing:`), never by a name
    /// another user could point elsewhere. `secrets` (the OSPF key) are
    /// masked in FRR's messages, which quote the offending line.
    public func validate(descriptor: Int32, daemon: String, secrets: [String] = []) throws {
        let file = "/proc/self/fd/\(ProcessRunner.passedDescriptor)"
        var syntax = try ProcessRunner.run([vtysh, "-C", "-f", file], timeout: .seconds(30), passing: descriptor)
        syntax.output = Self.redact(syntax.output, secrets)
        if syntax.status != 0 || syntax.output.contains("% Unknown command")
            || syntax.output.contains("% Command incomplete")
        {
            throw RoutingFileError.validationFailed(file: daemon + ".conf", tool: "vtysh -C -f", output: syntax.output)
        }
        let binary = "\(daemonDirectory)/\(daemon)"
        guard geteuid() == 0, FileManager.default.isExecutableFile(atPath: binary) else { return }
        // bfdd -C binds its control socket, /var/run/frr/bfdd.sock, before
        // it reads the file (FRR 8.4.4), replacing the running bfdd's: give
        // it a path where nothing can be created ("control_init: bind: Not
        // a directory" is all it says, and checking goes on).
        let extra = daemon == "bfdd" ? ["--bfdctl", "/dev/null/bfdd.sock"] : []
        var own = try ProcessRunner.run(
            [binary, "-C"] + extra + ["-f", file], timeout: .seconds(30), passing: descriptor)
        own.output = Self.redact(own.output, secrets)
        // "can't open configuration file": the daemon read nothing (it
        // opens the file after dropping to user frr), so it checked nothing.
        // bfdd -C answers `echo-mode` with a note, not a complaint:
        // "% Echo mode works correctly for IPv4, but only works when the
        // peer is also FRR for IPv6." (FRR 8.4.4).
        let complaints = own.output.split(separator: "\n").filter { !$0.contains("Echo mode works correctly") }.filter {
            line in
            // bfdd -C words it "No such command on config line N" (FRR 8.4.4).
            line.contains("Unknown command") || line.contains("No such command") || line.contains("rror")
                || line.contains("% ")
                || line.contains("open configuration file")
        }
        if own.status != 0 || !complaints.isEmpty {
            throw RoutingFileError.validationFailed(file: daemon + ".conf", tool: "\(daemon) -C", output: own.output)
        }
    }

    static func redact(_ text: String, _ secrets: [String]) -> String {
        secrets.filter { !$0.isEmpty }.reduce(text) { $0.replacingOccurrences(of: $1, with: "<redacted>") }
    }
}

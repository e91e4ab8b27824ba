import ArgumentParser
import ECMPCore
import ECMPNetlink
import ECMPRouting
import Foundation

/// `ecmpd verify --vip A`, run on the router: the nexthops the kernel
/// forwards the VIP's host route (/32, or /128 for an IPv6 VIP) over, whether they are the ones FRR installed, and
/// whether they are the ones expected. With `--watch`, every change of that
/// set, timestamped, until a signal.
struct VerifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "On the router: check the kernel's ECMP route to a VIP against FRR and an expectation.",
        discussion: """
            Exit status: 0 the route matches (and kernel and FRR agree, and every nexthop \
            has a BFD session up when bfdd runs), 1 a mismatch, a missing route, a \
            disagreement, a nexthop without a BFD session up, or directors sending BFD \
            to a router without bfdd, 2 usage. With --watch: the status of the \
            last state seen, or 1 when --timeout ends the watch before --count changes.
            """
    )

    @Option(
        name: .customLong("vip"), help: "The VIP whose /32 (IPv4) or /128 (IPv6) route to check.",
        transform: VIPArgument.parseEitherFamily)
    var vip: IPAddress

    @Option(help: "The number of nexthops expected (0: the route must be gone).")
    var expect: Int?

    @Option(help: "The gateways expected, exactly: A,B,... (for an IPv6 VIP, the directors' link-local addresses)")
    var expectNexthops: String?

    @Flag(help: "Print the result as JSON (with --watch: one JSON object per line).")
    var json = false

    @Flag(help: "Print every change of the kernel's nexthop set until SIGINT/SIGTERM.")
    var watch = false

    @Option(help: "With --watch: exit after this many changes.")
    var count: Int?

    @Option(help: "With --watch: exit after this many seconds.")
    var timeout: Double?

    @Option(help: "FRR's pathspace (vtysh -N) when FRR runs as a named instance.")
    var pathspace: String?

    @Flag(help: "Do not ask FRR (vtysh); check the kernel only.")
    var noFRR = false

    @Flag(help: "Do not check the BFD session behind each nexthop.")
    var noBFD = false

    func validate() throws {
        if expect != nil, expectNexthops != nil {
            throw ValidationError("give --expect or --expect-nexthops, not both")
        }
        if let expect, expect < 0 { throw ValidationError("--expect takes a number of nexthops, 0 or more") }
        if let expectNexthops {
            do { _ = try NexthopExpectation.gateways(parsing: expectNexthops, ipv6: isIPv6) } catch {
                throw ValidationError("--expect-nexthops: \(error)")
            }
        }
        if !watch, count != nil || timeout != nil { throw ValidationError("--count and --timeout go with --watch") }
        if let count, count < 1 { throw ValidationError("--count takes 1 or more") }
        if let timeout, !(timeout > 0) { throw ValidationError("--timeout takes a positive number of seconds") }
    }

    var prefix: PrefixedAddress { .host(vip) }

    var isIPv6: Bool { vip.ipv4 == nil }

    var expectation: NexthopExpectation {
        if let expect { return .count(expect) }
        if let expectNexthops, let parsed = try? NexthopExpectation.gateways(parsing: expectNexthops, ipv6: isIPv6) {
            return parsed
        }
        return .present
    }

    func run() throws {
        if watch { return try runWatch() }
        let route = try RealServerCommand.edge { try RouteReader().route(to: vip) }
        let verification = RouteVerification(
            prefix: prefix, kernel: nexthops(of: route), frr: frrView(), expectation: expectation)
        let bfd = BFDNexthopCheck(nexthops: verification.kernel, view: bfdView(verification.kernel))
        if json {
            try Output.json(Report(verification, route: route, bfd: bfd))
        } else {
            printText(verification, route: route, bfd: bfd)
        }
        if !verification.isOK || !bfd.problems.isEmpty { throw ExitCode(1) }
    }

    // MARK: BFD

    /// bfdd's sessions through vtysh; when bfdd is not running, who sends
    /// BFD to this router (`BFDPacketListener`, 1.2 s on UDP 3784).
    func bfdView(_ nexthops: RouteNexthops?) -> BFDNexthopCheck.View {
        if noBFD { return .notChecked(reason: "not asked (--no-bfd)") }
        if noFRR { return .notChecked(reason: "not asked (--no-frr)") }
        // ecmpd turns BFD on for ospfd only; OSPFv3 paths have no sessions to check.
        if isIPv6 { return .notChecked(reason: "an IPv6 VIP: ecmpd configures BFD for ospfd (IPv4) only") }
        guard let nexthops, !nexthops.nexthops.isEmpty else { return .notChecked(reason: "no nexthops") }
        guard let vtysh = Self.findVtysh() else { return .notChecked(reason: "vtysh is not installed") }
        let reader = BFDSessionReader(vtysh: vtysh, pathspace: pathspace, timeout: .seconds(10))
        do {
            return .sessions(try reader.read())
        } catch {
            guard error.description.contains("bfdd is not running") else { return .notChecked(reason: "\(error)") }
            guard let senders = BFDPacketListener.senders() else {
                return .notChecked(reason: "bfdd is not running and UDP \(BFDPacketListener.port) is taken")
            }
            return .notRunning(sendersHeard: senders)
        }
    }

    /// The kernel's nexthops for exactly the VIP's host route; nil when the lookup
    /// matched nothing or only a shorter prefix.
    func nexthops(of route: RouteReader.KernelRoute?) -> RouteNexthops? {
        guard let route, route.prefix == prefix else { return nil }
        return route.nexthops
    }

    // MARK: FRR

    /// FRR's entries for the VIP's host route from `vtysh -c 'show ip route
    /// A/32 json'` (IPv6: `show ipv6 route A/128 json`).
    /// FRR being absent or silent is reported, not a failure: the kernel is
    /// what forwards, and a router may run another routing daemon.
    func frrView() -> RouteVerification.FRRView {
        if noFRR { return .unavailable(reason: "not asked (--no-frr)") }
        guard let vtysh = Self.findVtysh() else { return .unavailable(reason: "vtysh is not installed") }
        let query = VtyshQuery(
            vtysh: vtysh, pathspace: pathspace, timeout: .seconds(10), commands: [FRRRoute.vtyshCommand(for: prefix)])
        do {
            // A stopped FRR fails with vtysh's last word, "Exiting: failed
            // to connect to any daemons.", in the reason.
            return .entries(try query.read { try FRRRoute.entries(inVtyshOutput: $0, prefix: prefix) })
        } catch {
            return .unavailable(reason: "\(error)")
        }
    }

    static func findVtysh() -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? ""
        let directories = path.split(separator: ":").map(String.init) + ["/usr/bin", "/usr/local/bin"]
        return directories.map { "\($0)/vtysh" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    // MARK: Text

    func printText(_ verification: RouteVerification, route: RouteReader.KernelRoute?, bfd: BFDNexthopCheck) {
        if let route, let nexthops = verification.kernel {
            print("kernel: \(Self.count(nexthops)) for \(prefix) (\(Self.details(route)))")
            for nexthop in nexthops.nexthops { print("  \(nexthop)") }
        } else if let route {
            print("kernel: no route to \(prefix); traffic to \(vip) follows \(route.prefix) (\(route.nexthops))")
        } else {
            print("kernel: no route to \(prefix)")
        }
        switch verification.frr {
        case .unavailable(let reason):
            print("frr: not checked: \(reason)")
        case .entries(let entries):
            if let installed = FRRRoute.installed(in: entries) {
                print(
                    "frr: \(installed.protocolName) route installed with \(Self.count(installed.fibNexthops)) in the FIB"
                )
            } else if let selected = entries.first(where: \.isSelected) {
                print("frr: \(selected.protocolName) route selected but not installed")
            } else {
                print("frr: no route to \(prefix)")
            }
            if verification.agreement == .agree { print("frr: agrees with the kernel") }
        }
        switch bfd.view {
        case .notChecked(let reason): print("bfd: not checked: \(reason)")
        case .notRunning(let senders):
            print(
                "bfd: bfdd is not running here; "
                    + (senders.isEmpty
                        ? "no BFD heard on UDP \(BFDPacketListener.port)"
                        : "BFD heard from \(senders.map(\.description).joined(separator: ", "))"))
        case .sessions:
            for row in bfd.rows {
                guard let session = row.session else {
                    print("bfd: \(row.gateway): no session")
                    continue
                }
                let since = (session.uptimeSeconds ?? session.downtimeSeconds).map { " for \($0)s" } ?? ""
                print(
                    "bfd: \(row.gateway): \(session.state.rawValue)\(since), \(session.transmitIntervalMilliseconds)ms x \(session.detectMultiplier), diagnostic \(session.diagnostic)"
                )
            }
        }
        let problems = verification.problems + bfd.problems
        for problem in problems { print("problem: \(problem)") }
        print(
            problems.isEmpty
                ? "ok: \(verification.expectation)"
                : "mismatch: \(problems.count) problem\(problems.count == 1 ? "" : "s")")
    }

    static func count(_ nexthops: RouteNexthops) -> String {
        nexthops.count == 1 ? "1 nexthop" : "\(nexthops.count) nexthops"
    }

    static func details(_ route: RouteReader.KernelRoute) -> String {
        var parts = ["proto \(route.protocolName)", "metric \(route.metric)"]
        if route.typeName != "unicast" { parts.insert(route.typeName, at: 0) }
        if let id = route.nexthopObjectID {
            parts.append(
                "nhid \(id), read from \(route.source == .nexthopObjects ? "the nexthop objects" : "the route's compatibility copy")"
            )
        }
        return parts.joined(separator: ", ")
    }

    // MARK: JSON

    struct Report: Encodable {
        var vip: String
        var prefix: String
        var ok: Bool
        var problems: [String]
        var expectation: String
        var matchesExpectation: Bool
        var agreement: String
        var kernel: Kernel
        var frr: FRR
        var bfd: BFD

        struct BFD: Encodable {
            var checked: Bool
            var reason: String?
            var bfddRunning: Bool?
            var sendersHeard: [String]?
            var nexthops: [Row]

            struct Row: Encodable {
                var gateway: String
                var session: Session?
            }
            struct Session: Encodable {
                var state: String
                var interface: String?
                var uptimeSeconds: Int?
                var downtimeSeconds: Int?
                var diagnostic: String
                var receiveIntervalMilliseconds: Int
                var transmitIntervalMilliseconds: Int
                var detectMultiplier: Int
                var downEvents: Int?
            }

            init(_ check: BFDNexthopCheck) {
                switch check.view {
                case .notChecked(let reason): (checked, self.reason) = (false, reason)
                case .notRunning(let senders):
                    (checked, bfddRunning, sendersHeard) = (true, false, senders.map(\.description))
                case .sessions: (checked, bfddRunning) = (true, true)
                }
                nexthops = check.rows.map { row in
                    Row(
                        gateway: row.gateway.description,
                        session: row.session.map {
                            Session(
                                state: $0.state.rawValue, interface: $0.interface, uptimeSeconds: $0.uptimeSeconds,
                                downtimeSeconds: $0.downtimeSeconds, diagnostic: $0.diagnostic,
                                receiveIntervalMilliseconds: $0.receiveIntervalMilliseconds,
                                transmitIntervalMilliseconds: $0.transmitIntervalMilliseconds,
                                detectMultiplier: $0.detectMultiplier, downEvents: $0.downEvents)
                        })
                }
            }
        }

        struct Nexthop: Encodable {
            var gateway: String?
            var interface: String
        }

        struct Kernel: Encodable {
            /// A route for exactly the VIP's /32 (/128) exists.
            var present: Bool
            var nexthops: [Nexthop]
            /// The route the lookup matched (the host route, or a covering prefix).
            var matchedPrefix: String?
            var `protocol`: String?
            var type: String?
            var metric: UInt32?
            var table: UInt32?
            var nexthopObjectID: UInt32?
            var nexthopSource: String?
        }

        struct FRR: Encodable {
            var available: Bool
            var reason: String?
            var routes: [Route]

            struct Route: Encodable {
                var `protocol`: String
                var selected: Bool
                var installed: Bool
                var fibNexthops: [Nexthop]
                var activeNexthops: [Nexthop]
            }
        }

        init(_ verification: RouteVerification, route: RouteReader.KernelRoute?, bfd check: BFDNexthopCheck) {
            vip = verification.prefix.address.description
            prefix = verification.prefix.description
            ok = verification.isOK && check.problems.isEmpty
            problems = verification.problems + check.problems
            bfd = BFD(check)
            expectation = verification.expectation.description
            matchesExpectation = verification.expectationMismatch == nil
            switch verification.agreement {
            case .agree: agreement = "agree"
            case .disagree: agreement = "disagree"
            case .notChecked: agreement = "not-checked"
            }
            kernel = Kernel(
                present: verification.kernel != nil, nexthops: Self.nexthops(verification.kernel ?? .empty),
                matchedPrefix: route?.prefix.description, protocol: route?.protocolName, type: route?.typeName,
                metric: route?.metric, table: route?.table, nexthopObjectID: route?.nexthopObjectID,
                nexthopSource: route?.source.rawValue
            )
            switch verification.frr {
            case .unavailable(let reason):
                frr = FRR(available: false, reason: reason, routes: [])
            case .entries(let entries):
                frr = FRR(
                    available: true, reason: nil,
                    routes: entries.map {
                        FRR.Route(
                            protocol: $0.protocolName, selected: $0.isSelected, installed: $0.isInstalled,
                            fibNexthops: Self.nexthops($0.fibNexthops), activeNexthops: Self.nexthops($0.activeNexthops)
                        )
                    })
            }
        }

        static func nexthops(_ set: RouteNexthops) -> [Nexthop] {
            set.nexthops.map { Nexthop(gateway: $0.gateway?.description, interface: $0.interface) }
        }
    }

    // MARK: Watch

    /// One line per change of the kernel's nexthop set for the VIP's host route.
    struct WatchLine: Encodable {
        var time: String
        var event: String
        var prefix: String
        var present: Bool
        var nexthops: [Report.Nexthop]
        var added: [Report.Nexthop]
        var removed: [Report.Nexthop]
        var matchesExpectation: Bool
    }

    func runWatch() throws {
        // Subscribe before the first read, so no change slips in between.
        let watcher = try RealServerCommand.edge { try RouteWatcher(includingIPv6Routes: isIPv6) }
        let reader = try RealServerCommand.edge { try RouteReader() }
        // A signal source is registered asynchronously, and until then the
        // signal is ignored (SIG_IGN) and lost: the initial line, which tells
        // a supervisor the watch runs, waits for both registrations.
        let registered = DispatchSemaphore(value: 0)
        let signals = [SIGINT, SIGTERM].map { number -> DispatchSourceSignal in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { watcher.interrupt() }
            source.setRegistrationHandler { registered.signal() }
            source.resume()
            return source
        }
        defer { signals.forEach { $0.cancel() } }
        for _ in signals { registered.wait() }

        let clock = ContinuousClock()
        let deadline = timeout.map { clock.now + .milliseconds(Int64($0 * 1000)) }
        var current = nexthops(of: try RealServerCommand.edge { try reader.route(to: vip) })
        try emit("initial", current, previous: nil)
        var changes = 0
        watching: while count.map({ changes < $0 }) ?? true {
            let remaining = deadline.map { $0 - clock.now } ?? .seconds(3600)
            if remaining <= .zero { break }
            switch try RealServerCommand.edge({ try watcher.wait(timeout: remaining) }) {
            case .interrupted: break watching
            case .timedOut: continue
            case .changed, .overflowed:
                let next = nexthops(of: try RealServerCommand.edge { try reader.route(to: vip) })
                guard next != current else { continue }
                try emit("change", next, previous: current)
                current = next
                changes += 1
            }
        }
        if let count, changes < count, let timeout {
            Output.error(
                "error: saw \(changes) of \(count) change\(count == 1 ? "" : "s") to \(prefix) within \(timeout) s")
            throw ExitCode(1)
        }
        if expectation.mismatch(in: current ?? .empty) != nil { throw ExitCode(1) }
    }

    func emit(_ event: String, _ nexthops: RouteNexthops?, previous: RouteNexthops?) throws {
        let time = Date.ISO8601FormatStyle(includingFractionalSeconds: true).format(Date())
        let set = nexthops ?? .empty
        let (added, removed) = previous.map { set.difference(from: $0) }.map { ($0.extra, $0.missing) } ?? ([], [])
        let mismatch = expectation.mismatch(in: set)
        let line: String
        if json {
            let value = WatchLine(
                time: time, event: event, prefix: prefix.description, present: nexthops != nil,
                nexthops: Report.nexthops(set), added: Report.nexthops(RouteNexthops(added)),
                removed: Report.nexthops(RouteNexthops(removed)), matchesExpectation: mismatch == nil
            )
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            line = String(decoding: try encoder.encode(value), as: UTF8.self)
        } else {
            let state = nexthops == nil ? "no route" : "\(Self.count(set)): \(set)"
            let delta = (added.map { "+\($0)" } + removed.map { "-\($0)" }).joined(separator: ", ")
            line = "\(time) \(prefix) \(state)\(delta.isEmpty ? "" : " (\(delta))")\(mismatch.map { " [\($0)]" } ?? "")"
        }
        // Unbuffered: a line must reach a pipe when it happens, not when a buffer fills.
        FileHandle.standardOutput.write(Data((line + "\n").utf8))
    }
}

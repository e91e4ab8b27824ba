import ECMPCore

/// Just enough network for IPVS to schedule real connections: a client
/// network namespace behind a veth pair, the VIP on this host's `lo`, and a
/// dummy link with a route to the real server. A client's SYN enters IPVS
/// like any director's traffic (LOCAL_IN), IPVS schedules it and forwards
/// it by direct routing into the dummy link, where it vanishes, leaving a
/// counted, inactive connection entry behind.
struct TrafficLab {
    let vip = IPAddress("198.18.0.1")!
    let realServer = IPAddress("198.18.1.1")!
    private let namespace = "ecmpd-client"
    private let dummy = "ecmpd-lab0"

    init() throws {
        tearDown()
        try Tool.run("ip", ["netns", "add", namespace])
        try Tool.run("ip", ["link", "add", "ecmpd-c0", "type", "veth", "peer", "name", "ecmpd-c1", "netns", namespace])
        try Tool.run("ip", ["address", "add", "198.18.2.1/24", "dev", "ecmpd-c0"])
        try Tool.run("ip", ["link", "set", "ecmpd-c0", "up"])
        try inClient(["ip", "address", "add", "198.18.2.2/24", "dev", "ecmpd-c1"])
        try inClient(["ip", "link", "set", "ecmpd-c1", "up"])
        try inClient(["ip", "route", "add", "default", "via", "198.18.2.1"])
        try Tool.run("ip", ["address", "add", "\(vip)/32", "dev", "lo"])
        try Tool.run("ip", ["link", "add", dummy, "type", "dummy"])
        try Tool.run("ip", ["address", "add", "198.18.1.254/24", "dev", dummy])
        try Tool.run("ip", ["link", "set", dummy, "up"])
    }

    func tearDown() {
        _ = try? Tool.run("ip", ["netns", "del", namespace])  // takes the veth pair with it
        _ = try? Tool.run("ip", ["address", "del", "\(vip)/32", "dev", "lo"])
        _ = try? Tool.run("ip", ["link", "del", dummy])
    }

    /// Each attempt sends a SYN (and retries) for two seconds, then gives
    /// up: no answer ever comes back from the dummy link. Two seconds
    /// because under qemu TCG starting bash alone can take most of a second.
    func sendConnectionAttempts(to port: UInt16, count: Int) throws {
        for _ in 0..<count {
            _ = try? inClient(["timeout", "2", "bash", "-c", "exec 3<>/dev/tcp/\(vip)/\(port)"])
        }
    }

    /// Source ports not used before in this process: an attempt from a port
    /// that an earlier attempt's IPVS entry still holds (SYN_RECV lasts a
    /// minute) would be forwarded on that entry instead of scheduled.
    nonisolated(unsafe) private static var nextSourcePort = 30_000

    /// `count` connection attempts at once from one process, each from its
    /// own, never used source port (one SYN each, retransmitted once), then
    /// left: a scheduled attempt leaves an IPVS connection entry for its
    /// real server, one IPVS could not schedule leaves none. Seconds, not
    /// one process start per attempt.
    /// Returns the source ports used, to count only these attempts' entries.
    @discardableResult
    func sendSYNs(to port: UInt16, count: Int) throws -> Range<Int> {
        let first = Self.nextSourcePort
        Self.nextSourcePort += count
        precondition(Self.nextSourcePort < 60_000, "out of fresh source ports")
        let script = """
            import socket, sys, time
            sockets = []
            first = int(sys.argv[4])
            for i in range(int(sys.argv[3])):
                s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                s.bind(("0.0.0.0", first + i))
                s.setblocking(False)
                s.connect_ex((sys.argv[1], int(sys.argv[2])))
                sockets.append(s)
            time.sleep(1.5)
            """
        try inClient(["python3", "-c", script, "\(vip)", "\(port)", "\(count)", "\(first)"])
        return first..<(first + count)
    }

    /// IPVS's connection entries for VIP:port from the given client source
    /// ports, counted by real server address:port (`ipvsadm -Lnc`: the
    /// kernel's connection table itself, not the estimator's lagging
    /// counters; entries of other attempts, which expire meanwhile, are
    /// left out).
    func connectionEntries(port: UInt16, from sourcePorts: Range<Int>) throws -> [String: Int] {
        var entries: [String: Int] = [:]
        for line in try Tool.run("ipvsadm", ["-Lnc"]).split(separator: "\n") {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
            guard fields.count >= 6, fields[4] == "\(vip):\(port)",
                let source = fields[3].split(separator: ":").last.flatMap({ Int($0) }), sourcePorts.contains(source)
            else { continue }
            entries[fields[5], default: 0] += 1
        }
        return entries
    }

    @discardableResult
    private func inClient(_ command: [String]) throws -> String {
        try Tool.run("ip", ["netns", "exec", namespace] + command)
    }
}

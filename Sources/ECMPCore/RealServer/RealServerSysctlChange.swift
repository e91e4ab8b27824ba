/// One sysctl write a real-server plan makes: `sysctl` from `from` to `to`.
public struct RealServerSysctlChange: Sendable, Equatable {
    public var sysctl: RealServerSysctl
    public var from: Int
    public var to: Int

    public init(sysctl: RealServerSysctl, from: Int, to: Int) {
        self.sysctl = sysctl
        self.from = from
        self.to = to
    }
}

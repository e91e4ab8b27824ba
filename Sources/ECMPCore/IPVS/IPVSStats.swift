/// Traffic counters and rate estimates of a service or destination, as the
/// kernel reports them (the 64-bit set where the kernel has it). Counters run
/// from the object's creation; rates are the kernel's 2-second estimates.
public struct IPVSStats: Hashable, Sendable {
    public var connections: UInt64
    public var incomingPackets: UInt64
    public var outgoingPackets: UInt64
    public var incomingBytes: UInt64
    public var outgoingBytes: UInt64
    public var connectionsPerSecond: UInt64
    public var incomingPacketsPerSecond: UInt64
    public var outgoingPacketsPerSecond: UInt64
    public var incomingBytesPerSecond: UInt64
    public var outgoingBytesPerSecond: UInt64

    public init(
        connections: UInt64 = 0, incomingPackets: UInt64 = 0, outgoingPackets: UInt64 = 0,
        incomingBytes: UInt64 = 0, outgoingBytes: UInt64 = 0, connectionsPerSecond: UInt64 = 0,
        incomingPacketsPerSecond: UInt64 = 0, outgoingPacketsPerSecond: UInt64 = 0,
        incomingBytesPerSecond: UInt64 = 0, outgoingBytesPerSecond: UInt64 = 0
    ) {
        self.connections = connections
        self.incomingPackets = incomingPackets
        self.outgoingPackets = outgoingPackets
        self.incomingBytes = incomingBytes
        self.outgoingBytes = outgoingBytes
        self.connectionsPerSecond = connectionsPerSecond
        self.incomingPacketsPerSecond = incomingPacketsPerSecond
        self.outgoingPacketsPerSecond = outgoingPacketsPerSecond
        self.incomingBytesPerSecond = incomingBytesPerSecond
        self.outgoingBytesPerSecond = outgoingBytesPerSecond
    }
}

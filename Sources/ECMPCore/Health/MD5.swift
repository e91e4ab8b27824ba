#if canImport(Glibc)
    import Glibc
#else
    import Darwin
#endif

/// MD5 (RFC 1321), fed in pieces. Only for keepalived's `digest`, which
/// compares a response body with an expected MD5: a fingerprint of the
/// content, not a security measure. Kept here rather than pulling in a
/// crypto library for one hash.
public struct MD5: Sendable {
    private var state: (UInt32, UInt32, UInt32, UInt32) = (0x6745_2301, 0xefcd_ab89, 0x98ba_dcfe, 0x1032_5476)
    private var pending: [UInt8] = []
    private var length: UInt64 = 0

    public init() { pending.reserveCapacity(64) }

    public mutating func update<Bytes: Sequence>(_ bytes: Bytes) where Bytes.Element == UInt8 {
        for byte in bytes {
            pending.append(byte)
            if pending.count == 64 {
                compress(pending)
                pending.removeAll(keepingCapacity: true)
            }
            length &+= 1
        }
    }

    /// The digest as 32 lower-case hex digits, as keepalived's `genhash` prints it.
    public func hexDigest() -> String {
        var copy = self
        let bitLength = length &* 8
        copy.pending.append(0x80)
        while copy.pending.count % 64 != 56 { copy.pending.append(0) }
        for shift in stride(from: 0, to: 64, by: 8) {
            copy.pending.append(UInt8(truncatingIfNeeded: bitLength >> UInt64(shift)))
        }
        for start in stride(from: 0, to: copy.pending.count, by: 64) {
            copy.compress(Array(copy.pending[start..<start + 64]))
        }
        let words = [copy.state.0, copy.state.1, copy.state.2, copy.state.3]
        let hex: [Character] = Array("0123456789abcdef")
        var text = ""
        for word in words {
            for shift in stride(from: 0, to: 32, by: 8) {
                let byte = UInt8(truncatingIfNeeded: word >> UInt32(shift))
                text.append(hex[Int(byte >> 4)])
                text.append(hex[Int(byte & 0x0f)])
            }
        }
        return text
    }

    public static func hexDigest<Bytes: Sequence>(of bytes: Bytes) -> String where Bytes.Element == UInt8 {
        var md5 = MD5()
        md5.update(bytes)
        return md5.hexDigest()
    }

    private static let shifts: [UInt32] = [
        7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22,
        5, 9, 14, 20, 5, 9, 14, 20, 5, 9, 14, 20, 5, 9, 14, 20,
        4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23,
        6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21,
    ]

    /// floor(abs(sin(i + 1)) × 2^32), the RFC's table T.
    private static let constants: [UInt32] = (0..<64).map { index in
        let value = abs(sin(Double(index + 1))) * 4_294_967_296.0
        return UInt32(value.rounded(.down))
    }

    private mutating func compress(_ block: [UInt8]) {
        var words = [UInt32](repeating: 0, count: 16)
        for index in 0..<16 {
            let base = index * 4
            words[index] =
                UInt32(block[base]) | UInt32(block[base + 1]) << 8 | UInt32(block[base + 2]) << 16 | UInt32(
                    block[base + 3]) << 24
        }
        var (a, b, c, d) = state
        for round in 0..<64 {
            var f: UInt32
            let g: Int
            switch round {
            case 0..<16: f = (b & c) | (~b & d); g = round
            case 16..<32: f = (d & b) | (~d & c); g = (5 * round + 1) % 16
            case 32..<48: f = b ^ c ^ d; g = (3 * round + 5) % 16
            default: f = c ^ (b | ~d); g = (7 * round) % 16
            }
            f = f &+ a &+ Self.constants[round] &+ words[g]
            a = d
            d = c
            c = b
            let shift = Self.shifts[round]
            b = b &+ ((f << shift) | (f >> (32 - shift)))
        }
        state = (state.0 &+ a, state.1 &+ b, state.2 &+ c, state.3 &+ d)
    }
}

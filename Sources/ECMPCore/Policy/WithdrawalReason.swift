/// Why a VIP is (or should be) off lo, in words an operator can act on.
public enum WithdrawalReason: Sendable, Equatable, CustomStringConvertible {
    /// Too few usable backends for `observations` observations in a row.
    case belowMinimum(usable: Int, total: Int, required: Int, observations: Int)
    /// An operator drained the VIP; it stays off lo until undrained.
    case drained
    /// Not yet `rise` good observations in a row since ecmpd started without
    /// the VIP on lo, or since an undrain.
    case notYetHealthy

    public var description: String {
        switch self {
        case .belowMinimum(let usable, let total, let required, let observations):
            return "\(usable) of \(total) backend\(total == 1 ? "" : "s") usable, below minimum \(required), "
                + "for \(observations) observation\(observations == 1 ? "" : "s")"
        case .drained:
            return "drained by an operator"
        case .notYetHealthy:
            return "not yet enough good observations in a row to announce"
        }
    }
}

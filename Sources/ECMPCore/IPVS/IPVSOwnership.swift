/// Which services a reconcile plan may delete. Services in the desired table
/// are always managed; ownership only decides the fate of services that are
/// in the kernel but not desired, because another program (keepalived, an
/// operator's `ipvsadm`) may share the table.
public enum IPVSOwnership: Hashable, Sendable {
    /// ecmpd programs the whole table: anything not desired goes.
    case wholeTable
    /// ecmpd created these services (e.g. those of an earlier config) and may
    /// delete them; all others are left alone.
    case services(Set<IPVSServiceIdentity>)

    public func owns(_ identity: IPVSServiceIdentity) -> Bool {
        switch self {
        case .wholeTable: return true
        case .services(let owned): return owned.contains(identity)
        }
    }
}

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

extension DecodingError {
    /// Where in FRR's JSON decoding stopped and why, as a parse error's
    /// reason: "areas.0.0.0.0[0].lsaAge: Expected to decode Int ...".
    var reason: String {
        func path(_ context: DecodingError.Context) -> String {
            context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined().drop { $0 == "." }
                .description
        }
        switch self {
        case .keyNotFound(let key, let context):
            return "\(path(context)).\(key.stringValue): missing".trimmingCharacters(in: ["."])
        case .typeMismatch(_, let context), .valueNotFound(_, let context), .dataCorrupted(let context):
            return "\(path(context)): \(context.debugDescription)"
        @unknown default: return "\(self)"
        }
    }
}

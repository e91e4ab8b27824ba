import Hummingbird

/// Rejects requests whose body exceeds `maxBytes` with 413, before any route
/// runs. The status endpoint takes no bodies, so the limit is tiny: a client
/// cannot make the daemon buffer what it sends.
struct RequestBodyLimitMiddleware<Context: RequestContext>: RouterMiddleware {
    let maxBytes: Int

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        if let declared = request.headers[.contentLength].flatMap(Int.init), declared > maxBytes {
            throw HTTPError(.contentTooLarge)
        }
        // Chunked bodies declare no length: read at most the limit.
        var request = request
        _ = try await request.collectBody(upTo: maxBytes)
        return try await next(request, context)
    }
}

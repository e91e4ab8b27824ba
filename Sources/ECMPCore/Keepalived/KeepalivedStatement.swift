/// One keyword line of a keepalived config, its arguments, and the block
/// that follows it when the next token is a `{`.
///
/// keepalived decides per keyword whether a block follows; the tree is built
/// without that knowledge, so an unknown keyword that opens a block takes its
/// whole block with it and can be skipped as one (keepalived itself would
/// read the block's lines as keywords of the enclosing level).
struct KeepalivedStatement {
    var words: [String]
    /// The line as keepalived's handlers see it, for keywords that re-split
    /// it with shell-like quoting (`misc_path`).
    var raw: String
    var location: KeepalivedLocation
    /// Position among all tokens, for putting problems in file order.
    var order: Int
    var block: [KeepalivedStatement]?

    var keyword: String { words[0] }
    var arguments: [String] { Array(words.dropFirst()) }

    /// How deep blocks may nest. keepalived's deepest real block is four
    /// levels (`virtual_server`, `real_server`, `HTTP_GET`, `url`); the
    /// limit keeps a file of thousands of `{` from overflowing the stack
    /// of the recursive tree building and translation.
    static let maximumDepth = 32

    /// Builds the statement tree. Unbalanced braces are errors: a missing
    /// `}` silently moves every following block one level down.
    static func tree(_ tokens: [KeepalivedLexer.Token]) -> (
        statements: [KeepalivedStatement], problems: [(order: Int, problem: ConfigProblem)]
    ) {
        var builder = TreeBuilder(tokens: tokens)
        let statements = builder.block(openedAt: nil, depth: 0)
        return (statements, builder.problems)
    }
}

private struct TreeBuilder {
    let tokens: [KeepalivedLexer.Token]
    var index = 0
    var problems: [(order: Int, problem: ConfigProblem)] = []

    init(tokens: [KeepalivedLexer.Token]) { self.tokens = tokens }

    mutating func block(openedAt open: (KeepalivedLocation, Int)?, depth: Int) -> [KeepalivedStatement] {
        var statements: [KeepalivedStatement] = []
        var previousWasStatement = false
        while index < tokens.count {
            let order = 2 * index
            switch tokens[index] {
            case .words(let words, let raw, let at):
                statements.append(KeepalivedStatement(words: words, raw: raw, location: at, order: order))
                index += 1
                previousWasStatement = true
            case .open(let at):
                index += 1
                guard depth < KeepalivedStatement.maximumDepth else {
                    report(
                        at, order,
                        "blocks nest deeper than \(KeepalivedStatement.maximumDepth) levels (keepalived's own go four deep); this block is skipped"
                    )
                    skipBlock(openedAt: (at, order))
                    previousWasStatement = false
                    continue
                }
                let inner = block(openedAt: (at, order), depth: depth + 1)
                if previousWasStatement, statements[statements.count - 1].block == nil {
                    statements[statements.count - 1].block = inner
                } else {
                    report(at, order, "'{' with no keyword before it; its block is skipped")
                }
                previousWasStatement = false
            case .close(let at):
                index += 1
                if open != nil { return statements }
                report(at, order, "extra '}': no block is open here")
                previousWasStatement = false
            }
        }
        if let open { reportUnclosed(open) }
        return statements
    }

    /// Steps over a block without building it (without recursion, however
    /// deep it goes).
    mutating func skipBlock(openedAt open: (KeepalivedLocation, Int)) {
        var depth = 1
        while index < tokens.count, depth > 0 {
            switch tokens[index] {
            case .open: depth += 1
            case .close: depth -= 1
            case .words: break
            }
            index += 1
        }
        if depth > 0 { reportUnclosed(open) }
    }

    mutating func reportUnclosed(_ open: (KeepalivedLocation, Int)) {
        report(open.0, open.1, "this '{' is never closed; every block after it would be read as part of it")
    }

    mutating func report(_ at: KeepalivedLocation, _ order: Int, _ message: String) {
        problems.append((order, ConfigProblem(.error, file: at.file, line: at.line, message: message)))
    }
}

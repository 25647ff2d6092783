/// The keys the gateway issues and accepts tokens with: one current key that signs, and previous keys
/// still accepted for verification during a rotation.
///
/// Built once at configuration load and immutable afterwards; a reload builds a new ring. Key ids are
/// unique within a ring, so a token's `kid` names at most one key.
public struct KeyRing: Sendable {
    /// The key new tokens are signed with.
    public let current: TokenKey
    /// Keys still accepted for verification, most recent first.
    public let previous: [TokenKey]

    private let byKeyID: [String: TokenKey]
    /// For tokens without `kid` (as minted by other tools): the current key first, then previous keys,
    /// grouped by algorithm so that only keys of the header's algorithm are ever tried.
    private let byAlgorithm: [SigningAlgorithm: [TokenKey]]

    /// Throws when the current key cannot sign or two keys share a `kid`.
    public init(current: TokenKey, previous: [TokenKey] = []) throws(TokenKeyError) {
        guard current.canSign else { throw .currentKeyCannotSign(kid: current.kid) }
        var byKeyID = [String: TokenKey]()
        var byAlgorithm = [SigningAlgorithm: [TokenKey]]()
        for key in [current] + previous {
            guard byKeyID.updateValue(key, forKey: key.kid) == nil else { throw .duplicateKeyID(key.kid) }
            byAlgorithm[key.algorithm, default: []].append(key)
        }
        self.current = current
        self.previous = previous
        self.byKeyID = byKeyID
        self.byAlgorithm = byAlgorithm
    }

    /// Every key, current first.
    public var keys: [TokenKey] { [current] + previous }

    /// The key with this `kid`, if any.
    public func key(withID kid: String) -> TokenKey? {
        byKeyID[kid]
    }

    /// The keys to try, in order, for a token of `algorithm` that names no key.
    func candidates(for algorithm: SigningAlgorithm) -> [TokenKey] {
        byAlgorithm[algorithm] ?? []
    }
}

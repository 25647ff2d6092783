import XCTest

@testable import Tokens

/// The token cache's stripe: a lookup must only ever answer for byte-equal tokens, whatever their hashes.
final class TokenCacheTableTests: XCTestCase {
    private typealias Table = TokenCacheTable<String>

    private func value(_ table: Table, _ token: String, hash: Int) -> String? {
        Array(token.utf8).withUnsafeBytes { table.value(for: $0, hash: hash) }
    }

    private func store(_ table: inout Table, _ token: String, _ value: String, hash: Int) {
        table.updateValue(value, for: Array(token.utf8), hash: hash)
    }

    private func remove(_ table: inout Table, _ token: String, hash: Int) {
        Array(token.utf8).withUnsafeBytes { table.removeValue(for: $0, hash: hash) }
    }

    func testTokensWhoseHashesCollideKeepTheirOwnValues() {
        var table = Table()
        store(&table, "token-a", "a", hash: 42)
        store(&table, "token-b", "b", hash: 42)
        XCTAssertEqual(value(table, "token-a", hash: 42), "a")
        XCTAssertEqual(value(table, "token-b", hash: 42), "b")
        XCTAssertNil(value(table, "token-c", hash: 42), "same hash and length, other bytes: no value")
        XCTAssertNil(value(table, "token-", hash: 42), "a prefix is not the token")
        XCTAssertNil(value(table, "token-aa", hash: 42), "nor is a longer token")
        XCTAssertEqual(table.count, 2)
    }

    func testSameLengthDifferentBytesUnderTheRealHashAreDistinct() {
        var table = Table()
        let first = String(repeating: "x", count: 40) + "1"
        let second = String(repeating: "x", count: 40) + "2"
        let firstHash = Array(first.utf8).withUnsafeBytes { Table.hash(of: $0) }
        let secondHash = Array(second.utf8).withUnsafeBytes { Table.hash(of: $0) }
        store(&table, first, "1", hash: firstHash)
        XCTAssertEqual(value(table, first, hash: firstHash), "1")
        XCTAssertNil(value(table, second, hash: secondHash))
        XCTAssertNil(value(table, second, hash: firstHash), "even looked up with the stored token's hash")
    }

    func testHashZeroAndOneShareATagButNotAValue() {
        var table = Table()
        store(&table, "zero", "0", hash: 0)
        store(&table, "one", "1", hash: 1)
        XCTAssertEqual(value(table, "zero", hash: 0), "0")
        XCTAssertEqual(value(table, "one", hash: 1), "1")
        XCTAssertNil(value(table, "zero", hash: 1 << 40), "another home: not found")
    }

    func testEmptyAndShortTokens() {
        var table = Table()
        let emptyHash = [UInt8]().withUnsafeBytes { Table.hash(of: $0) }
        store(&table, "", "empty", hash: emptyHash)
        store(&table, "x", "x", hash: emptyHash)
        XCTAssertEqual(value(table, "", hash: emptyHash), "empty")
        XCTAssertEqual(value(table, "x", hash: emptyHash), "x")
    }

    func testStoringAgainReplacesTheValue() {
        var table = Table()
        store(&table, "token", "old", hash: 7)
        store(&table, "token", "new", hash: 7)
        XCTAssertEqual(value(table, "token", hash: 7), "new")
        XCTAssertEqual(table.count, 1)
    }

    /// Removal shifts the rest of a probe run back: the tokens after a removed one, in the same run, wrapping past
    /// the last slot, stay reachable.
    func testRemovalKeepsTheRestOfACollisionChainReachable() {
        var table = Table()
        // Eight slots at first; these homes are all slot 7 (the hash's high 32 bits), so the run wraps to 0, 1, 2.
        let home7 = 7 << 32
        for index in 0..<3 { store(&table, "t\(index)", "v\(index)", hash: home7) }
        store(&table, "other", "o", hash: 1 << 32)  // home 1, displaced by the wrapping run to slot 2
        remove(&table, "t0", hash: home7)
        XCTAssertNil(value(table, "t0", hash: home7))
        XCTAssertEqual(value(table, "t1", hash: home7), "v1")
        XCTAssertEqual(value(table, "t2", hash: home7), "v2")
        XCTAssertEqual(value(table, "other", hash: 1 << 32), "o")
        remove(&table, "t2", hash: home7)
        XCTAssertEqual(value(table, "t1", hash: home7), "v1")
        XCTAssertEqual(value(table, "other", hash: 1 << 32), "o")
        remove(&table, "missing", hash: home7)
        XCTAssertEqual(table.count, 2)
    }

    func testGrowthKeepsEveryToken() {
        var table = Table()
        for index in 0..<1000 { store(&table, "token-\(index)", "\(index)", hash: index % 13) }
        XCTAssertEqual(table.count, 1000)
        for index in 0..<1000 { XCTAssertEqual(value(table, "token-\(index)", hash: index % 13), "\(index)") }
    }

    func testFilterKeepsWhatItAcceptsAndAsksEachOnce() {
        var table = Table()
        for index in 0..<20 { store(&table, "token-\(index)", "\(index)", hash: index << 32) }
        var asked: [String] = []
        table.filter {
            asked.append($0)
            return Int($0)! % 2 == 0
        }
        XCTAssertEqual(asked.sorted(), (0..<20).map { "\($0)" }.sorted())
        XCTAssertEqual(table.count, 10)
        for index in 0..<20 {
            XCTAssertEqual(value(table, "token-\(index)", hash: index << 32), index % 2 == 0 ? "\(index)" : nil)
        }
        table.removeAll()
        XCTAssertEqual(table.count, 0)
        XCTAssertNil(value(table, "token-0", hash: 0))
    }

    /// Random stores and removals under a hash with many collisions agree with a `Dictionary` of the same tokens.
    func testAgreesWithADictionaryUnderHeavyCollisions() {
        var generator = SystemRandomNumberGenerator()
        var table = Table()
        var model: [String: String] = [:]
        let weakHash = { (token: String) -> Int in (token.utf8.count % 5) << 32 }
        for step in 0..<5000 {
            let token = "t\(Int.random(in: 0..<300, using: &generator))"
            if Bool.random(using: &generator) {
                store(&table, token, "\(step)", hash: weakHash(token))
                model[token] = "\(step)"
            } else {
                remove(&table, token, hash: weakHash(token))
                model[token] = nil
            }
            if step % 7 == 0 {
                let filtered = step % 2 == 0
                if filtered {
                    table.filter { Int($0)! % 3 != 0 }
                    model = model.filter { Int($0.value)! % 3 != 0 }
                }
            }
            XCTAssertEqual(table.count, model.count)
        }
        for index in 0..<300 {
            let token = "t\(index)"
            XCTAssertEqual(value(table, token, hash: weakHash(token)), model[token], token)
        }
    }
}

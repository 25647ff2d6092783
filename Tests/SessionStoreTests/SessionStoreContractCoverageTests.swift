import Foundation
import XCTest

/// Every store runs the whole contract: each subclass of `SessionStoreContract` calls every `contract…` check from
/// a `test…` method of the same name. Linux's test discovery cannot see inherited tests, so the calls are written
/// out; this reads the suite's sources (beside this file) and fails when a check is missing from a store.
final class SessionStoreContractCoverageTests: XCTestCase {
    private let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()

    private func sources() throws -> [(name: String, text: String)] {
        try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasSuffix(".swift") }.sorted()
            .map { ($0, try String(contentsOf: directory.appendingPathComponent($0), encoding: .utf8)) }
    }

    private func matches(_ pattern: String, in text: String) throws -> [[String]] {
        let expression = try NSRegularExpression(pattern: pattern)
        let whole = NSRange(text.startIndex..., in: text)
        return expression.matches(in: text, range: whole).map { match in
            (1..<match.numberOfRanges).map { String(text[Range(match.range(at: $0), in: text)!]) }
        }
    }

    /// The check names, from `func contractX()` in `SessionStoreContract+….swift`.
    private func checks() throws -> Set<String> {
        var names: Set<String> = []
        for source in try sources() where source.name.hasPrefix("SessionStoreContract+") {
            for match in try matches(#"func contract(\w+)\(\) async throws"#, in: source.text) {
                names.insert(match[0])
            }
        }
        return names
    }

    func testEverySubclassRunsEveryCheckOfTheContract() throws {
        let checks = try checks()
        XCTAssertGreaterThanOrEqual(checks.count, 20, "the contract's checks were not found: \(checks)")
        var subclasses: [String] = []
        for source in try sources() {
            for match in try matches(#"class (\w+): SessionStoreContract \{"#, in: source.text) {
                subclasses.append(match[0])
                let calls = try matches(
                    #"func test(\w+)\(\) async throws \{\s*try await contract(\w+)\(\)\s*\}"#, in: source.text)
                XCTAssertEqual(calls.filter { $0[0] != $0[1] }, [], "\(match[0]): a test calls another check")
                let run = Set(calls.map { $0[1] })
                XCTAssertEqual(checks.subtracting(run).sorted(), [], "\(match[0]) leaves these checks out")
                XCTAssertEqual(run.subtracting(checks).sorted(), [], "\(match[0]) calls checks that do not exist")
            }
        }
        XCTAssertEqual(subclasses.sorted(), ["PostgresSessionStoreContractTests", "SQLiteSessionStoreContractTests"])
    }
}

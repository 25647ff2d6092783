import XCTest

@testable import GatewayCore

extension XCTestCase {
    /// The line of the TOML syntax error `text` must be refused with (and a failure if it is accepted, or refused for
    /// anything else): for the inputs that once made toml++ abort instead.
    func tomlSyntaxErrorLine(_ text: String, file: StaticString = #filePath, line: UInt = #line) -> Int? {
        switch ConfigLoader(environment: [:]).parse(text: text) {
        case .success:
            XCTFail("expected a syntax error", file: file, line: line)
            return nil
        case .failure(let error):
            XCTAssertTrue(
                error.issues.first?.message.contains("TOML syntax error") ?? false, "\(error.issues)", file: file,
                line: line)
            return error.issues.first?.line
        }
    }
}

import JSON
import NIOCore
import NIOHTTP1
import XCTest

@testable import GatewayCore

final class FormBodyTests: XCTestCase {
    private func parse(_ body: String, contentType: String?) -> Result<FormBody, FormBody.Failure> {
        var headers = HTTPHeaders()
        if let contentType { headers.add(name: "Content-Type", value: contentType) }
        return FormBody.parse(ByteBuffer(string: body), headers: headers)
    }

    func testFormEncodedParametersAreDecoded() throws {
        let form = try parse(
            "grant_type=refresh_token&refresh_token=a%2Bb%3D&note=two+words",
            contentType: "application/x-www-form-urlencoded"
        ).get()
        XCTAssertEqual(form["grant_type"], "refresh_token")
        XCTAssertEqual(form["refresh_token"], "a+b=")
        XCTAssertEqual(form["note"], "two words")
    }

    func testContentTypeParametersAndCaseAreIgnored() throws {
        let form = try parse("a=1", contentType: "Application/X-WWW-Form-Urlencoded; charset=UTF-8").get()
        XCTAssertEqual(form["a"], "1")
        XCTAssertEqual(try parse("{\"a\":\"1\"}", contentType: "application/json; charset=utf-8").get()["a"], "1")
    }

    func testRepeatedFormParameterIsRefused() {
        // RFC 6749 section 3.2: request parameters must not be included more than once.
        XCTAssertEqual(
            parse("token=a&token=b", contentType: "application/x-www-form-urlencoded"),
            .failure(.repeatedParameter("token")))
    }

    func testFormParameterWithoutValueIsEmpty() throws {
        let form = try parse("code=&flag", contentType: "application/x-www-form-urlencoded").get()
        XCTAssertEqual(form["code"], "")
        XCTAssertEqual(form["flag"], "")
    }

    func testJSONStringsAndNumbersAreFieldsAndOtherValuesAreSkipped() throws {
        let form = try parse(
            #"{"code":"081abc+/=","n":42,"nested":{"a":1},"list":[1],"none":null}"#,
            contentType: "application/json"
        ).get()
        XCTAssertEqual(form["code"], "081abc+/=", "a '+' in JSON is a '+', not a space")
        XCTAssertEqual(form["n"], "42")
        XCTAssertEqual(
            try parse(#"{"x":1.5,"y":-3}"#, contentType: "application/json").get(),
            FormBody(fields: ["x": "1.5", "y": "-3"]))
        XCTAssertNil(form["nested"])
        XCTAssertNil(form["list"])
        XCTAssertNil(form["none"])
    }

    func testJSONThatIsNotAnObjectIsRefused() {
        for body in ["[1,2]", "\"code\"", "{not json", "42"] {
            XCTAssertEqual(parse(body, contentType: "application/json"), .failure(.notJSONObject), body)
        }
    }

    func testRepeatedJSONNameIsRefused() {
        // JSONSerialization let the last `code` win silently; RFC 6749 section 3.2 says a parameter appears once.
        XCTAssertEqual(parse(#"{"code":"a","code":"b"}"#, contentType: "application/json"), .failure(.notJSONObject))
    }

    func testBodiesThatAreNotUTF8AreRefusedNotRepaired() {
        var json = HTTPHeaders()
        json.add(name: "Content-Type", value: "application/json")
        XCTAssertEqual(
            FormBody.parse(
                ByteBuffer(bytes: Array(#"{"code":""#.utf8) + [0xFF, 0xFE] + Array(#""}"#.utf8)),
                headers: json), .failure(.notJSONObject))
        var form = HTTPHeaders()
        form.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
        XCTAssertEqual(
            FormBody.parse(ByteBuffer(bytes: Array("code=".utf8) + [0xFF]), headers: form), .failure(.badEncoding))
        XCTAssertEqual(parse("code=%FF", contentType: "application/x-www-form-urlencoded"), .failure(.badEncoding))
        XCTAssertEqual(parse("code=100%", contentType: "application/x-www-form-urlencoded"), .failure(.badEncoding))
        XCTAssertEqual(
            try parse("code=%E4%BD%A0", contentType: "application/x-www-form-urlencoded").get()["code"], "\u{4F60}")
    }

    func testFailuresSayWhatIsWrong() {
        XCTAssertEqual(FormBody.Failure.repeatedParameter("code").description, "code must not appear more than once")
        XCTAssertEqual(
            FormBody.Failure.repeatedParameter(String(repeating: "x", count: 500)).description,
            "a parameter appears more than once", "a long client text is not echoed back")
        XCTAssertEqual(FormBody.Failure.repeatedParameter("a\"b").description, "a parameter appears more than once")
        XCTAssertTrue(FormBody.Failure.unsupportedContentType.description.contains("application/json"))
    }

    func testEmptyBodyHasNoFields() throws {
        XCTAssertEqual(try parse("", contentType: "application/json").get(), FormBody(fields: [:]))
        XCTAssertEqual(try parse("", contentType: "application/x-www-form-urlencoded").get(), FormBody(fields: [:]))
        XCTAssertEqual(try parse("", contentType: nil).get(), FormBody(fields: [:]))
    }

    func testMissingContentTypeIsTriedAsJSONThenAsForm() throws {
        XCTAssertEqual(try parse(#"{"code":"x"}"#, contentType: nil).get()["code"], "x")
        XCTAssertEqual(try parse("code=x", contentType: nil).get()["code"], "x")
    }

    func testOtherContentTypesAreRefused() {
        XCTAssertEqual(parse("code=x", contentType: "text/plain"), .failure(.unsupportedContentType))
        XCTAssertEqual(
            parse("code=x", contentType: "multipart/form-data; boundary=x"), .failure(.unsupportedContentType))
    }
}

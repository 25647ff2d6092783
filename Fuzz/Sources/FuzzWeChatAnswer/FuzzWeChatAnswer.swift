import Foundation
import JSON
@testable import WeChat

/// WeChat answer parsing: the lenient JSON reader, the errcode mapping and the jscode2session reading. Whatever
/// WeChat (or something posing as it) answers, the result is a value or a typed error, and an accepted openid or
/// unionid is always a usable header value.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzWeChatAnswer(_ start: UnsafeRawPointer?, _ count: Int) -> CInt {
    let data = start.map { Data(bytes: $0, count: count) } ?? Data()
    guard let answer = JSONValue.parse(data) else { return 0 }
    if let errcode = answer["errcode"]?.intValue, errcode != 0 {
        _ = WeChatError.fromAPI(errcode: errcode, errmsg: answer["errmsg"]?.stringValue ?? "")
        return 0
    }
    _ = answer["expires_in"]?.intValue
    _ = answer["phone_info"]?["countryCode"]?.stringValue
    _ = answer.serialized()
    if let session = try? Code2SessionResult(answer: answer) {
        for id in [session.openID] + (session.unionID.map { [$0] } ?? []) {
            precondition(id.utf8.allSatisfy { $0 > 0x20 && $0 < 0x7F }, "an unusable id was accepted")
        }
    }
    return 0
}

import Foundation
import JSON
import WeChat

extension SimulatorRouter {
    /// `POST /wxa/business/getuserphonenumber` ("手机号快速验证组件 / getPhoneNumber").
    func phoneNumber(accessToken: String?, body: Data) -> SimulatorResponse {
        let appID: String
        switch state.checkToken(accessToken ?? "") {
        case .valid(let owner): appID = owner
        case .expired: return .error(42001, "access_token expired")
        case .unknown: return .error(40001, "invalid credential, access_token is invalid or not latest")
        }
        guard let json = JSONValue.parse(body), let code = json["code"]?.stringValue, !code.isEmpty else {
            return .error(47001, "data format error")
        }
        let (delay, refusal) = codeRule(code)
        if let refusal { return refusal }
        // A spent phone code is answered like an unknown one.
        guard state.spendPhoneCode(appID: appID, code: code) else { return .error(40029, "invalid code") }

        let pure = SimulatorIdentity.purePhoneNumber(code: code)
        let phoneInfo: JSONValue = .object([
            "phoneNumber": .string("+86" + pure),
            "purePhoneNumber": .string(pure),
            "countryCode": .string("86"),
            "watermark": .object([
                "timestamp": .int(Int(Date().timeIntervalSince1970)),
                "appid": .string(appID),
            ]),
        ])
        return SimulatorResponse(
            body: .object(["errcode": .int(0), "errmsg": .string("ok"), "phone_info": phoneInfo]),
            delay: delay
        )
    }
}

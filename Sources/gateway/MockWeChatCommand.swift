import ArgumentParser

/// `gateway mock-wechat`: runs the WeChat API simulator (DESIGN.md section 7).
struct MockWeChatCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mock-wechat",
        abstract: "Run the WeChat API simulator for development and tests."
    )
}

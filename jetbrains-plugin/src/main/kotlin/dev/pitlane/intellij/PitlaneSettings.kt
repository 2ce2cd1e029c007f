package dev.pitlane.intellij

import com.intellij.openapi.components.BaseState
import com.intellij.openapi.components.Service
import com.intellij.openapi.components.SimplePersistentStateComponent
import com.intellij.openapi.components.State
import com.intellij.openapi.components.Storage
import com.intellij.openapi.components.service

/** The plugin's settings, stored per IDE installation. */
@Service(Service.Level.APP)
@State(name = "PitlaneSettings", storages = [Storage("pitlane.xml")])
class PitlaneSettings : SimplePersistentStateComponent<PitlaneSettings.Options>(Options()) {
    class Options : BaseState() {
        /** The pitlane binary; empty: found on PATH. */
        var binaryPath by string("")

        /** The IDE workspaces open in (one of the bridge's "ides"); empty: a JetBrains one. */
        var defaultIde by string("")

        /** Dotfiles repository for new workspaces; empty: `pitlane settings dotfiles`. */
        var dotfilesRepository by string("")

        /** Its install script; empty: install.sh, bootstrap.sh, setup.sh, ... or links. */
        var dotfilesScript by string("")

        /** Anonymous usage metrics: off until the user turns them on. */
        var telemetryEnabled by property(false)
    }

    companion object {
        fun get(): PitlaneSettings = service()
    }
}

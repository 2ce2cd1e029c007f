package dev.pitlane.intellij

import com.intellij.openapi.fileChooser.FileChooserDescriptorFactory
import com.intellij.openapi.options.Configurable
import com.intellij.openapi.ui.ComboBox
import com.intellij.openapi.ui.TextFieldWithBrowseButton
import com.intellij.ui.components.JBCheckBox
import com.intellij.ui.components.JBLabel
import com.intellij.ui.components.JBTextField
import com.intellij.util.ui.FormBuilder
import com.intellij.util.ui.UIUtil
import dev.pitlane.core.PitlaneBinary
import dev.pitlane.core.SessionStatus
import javax.swing.DefaultComboBoxModel
import javax.swing.JComponent
import javax.swing.JPanel

/** Settings | Tools | Pitlane: the binary, the IDE workspaces open in, dotfiles, and the telemetry opt-in. */
class PitlaneConfigurable : Configurable {
    private var binary: TextFieldWithBrowseButton? = null
    private var ide: ComboBox<String>? = null
    private var telemetry: JBCheckBox? = null
    private var dotfiles: JBTextField? = null
    private var dotfilesScript: JBTextField? = null

    override fun getDisplayName() = "Pitlane"

    override fun createComponent(): JComponent {
        val b = TextFieldWithBrowseButton().apply {
            addBrowseFolderListener(null, FileChooserDescriptorFactory.createSingleFileNoJarsDescriptor().withTitle("Pitlane Binary"))
            val found = PitlaneBinary.findOnPath(System.getenv("PATH"))
            (textField as? com.intellij.ui.components.JBTextField)?.emptyText?.text =
                found?.let { "on PATH: $it" } ?: "not found on PATH"
        }
        val offered = (PitlaneService.get().session.status as? SessionStatus.Ready)?.info?.ides.orEmpty()
        val i = ComboBox(DefaultComboBoxModel((listOf("") + offered).distinct().toTypedArray())).apply {
            isEditable = true
            toolTipText = "Empty: a JetBrains IDE through JetBrains Gateway when the bridge offers one"
        }
        val d = JBTextField().apply { emptyText.text = "pitlane settings dotfiles, if set" }
        val ds = JBTextField().apply { emptyText.text = "install.sh, bootstrap.sh, setup.sh, ... or links" }
        dotfiles = d
        dotfilesScript = ds
        val t = JBCheckBox("Send anonymous usage metrics (only while the IDE's own data sharing is on too)")
        binary = b
        ide = i
        telemetry = t
        reset()
        return FormBuilder.createFormBuilder()
            .addLabeledComponent("Pitlane binary:", b)
            .addComponentToRightColumn(hint("Leave empty to use the pitlane found on PATH."))
            .addLabeledComponent("Open workspaces in:", i)
            .addLabeledComponent("Dotfiles repository:", d)
            .addComponentToRightColumn(hint("Git URL, local repository or OWNER/REPO, installed in new workspaces."))
            .addLabeledComponent("Dotfiles install script:", ds)
            .addComponent(t)
            .addComponentToRightColumn(hint("Off by default. Pitlane never sends names, paths or repository URLs."))
            .addComponentFillVertically(JPanel(), 0)
            .panel
    }

    private fun hint(text: String) = JBLabel(text).apply {
        componentStyle = UIUtil.ComponentStyle.SMALL
        fontColor = UIUtil.FontColor.BRIGHTER
    }

    private fun ideText() = (ide?.editor?.item as? String ?: ide?.selectedItem as? String).orEmpty().trim()

    override fun isModified(): Boolean {
        val s = PitlaneSettings.get().state
        return binary?.text?.trim() != s.binaryPath.orEmpty() ||
            ideText() != s.defaultIde.orEmpty() ||
            dotfiles?.text?.trim() != s.dotfilesRepository.orEmpty() ||
            dotfilesScript?.text?.trim() != s.dotfilesScript.orEmpty() ||
            telemetry?.isSelected != s.telemetryEnabled
    }

    override fun apply() {
        val s = PitlaneSettings.get().state
        val newBinary = binary?.text?.trim().orEmpty()
        val binaryChanged = newBinary != s.binaryPath.orEmpty()
        s.binaryPath = newBinary
        s.defaultIde = ideText()
        s.dotfilesRepository = dotfiles?.text?.trim().orEmpty()
        s.dotfilesScript = dotfilesScript?.text?.trim().orEmpty()
        s.telemetryEnabled = telemetry?.isSelected ?: false
        val service = PitlaneService.get()
        if (binaryChanged) service.session.restart() else service.sendConsent()
    }

    override fun reset() {
        val s = PitlaneSettings.get().state
        binary?.text = s.binaryPath.orEmpty()
        ide?.selectedItem = s.defaultIde.orEmpty()
        dotfiles?.text = s.dotfilesRepository.orEmpty()
        dotfilesScript?.text = s.dotfilesScript.orEmpty()
        telemetry?.isSelected = s.telemetryEnabled
    }

    override fun disposeUIResources() {
        binary = null
        ide = null
        telemetry = null
        dotfiles = null
        dotfilesScript = null
    }
}

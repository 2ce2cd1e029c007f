require "minitest/autorun"
require "vowels"

class VowelsTest < Minitest::Test
  def test_count
    assert_equal 5, Vowels.count("Education")
  end
end

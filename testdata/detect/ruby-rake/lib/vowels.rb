# Counts vowels.
module Vowels
  def self.count(s)
    s.downcase.count("aeiou")
  end
end

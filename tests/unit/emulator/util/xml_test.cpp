#include "emulator/util/xml.h"

#include <gtest/gtest.h>

namespace offcloud {
namespace {

TEST(Xml, ParsesWhatS3ClientsSend) {
  auto document = parse_xml(
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      "<Delete xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Quiet>true</Quiet>"
      "<Object><Key>a&amp;b &lt;c&gt; &#x65E5;&#26412;</Key></Object>"
      "<Object><Key><![CDATA[raw <x>]]></Key><VersionId>null</VersionId></Object>"
      "<!-- comment --></Delete>");
  ASSERT_TRUE(document);
  EXPECT_EQ(document->name, "Delete");
  EXPECT_EQ(document->child("Quiet")->text, "true");
  auto objects = document->children_named("Object");
  ASSERT_EQ(objects.size(), 2u);
  EXPECT_EQ(objects[0]->child("Key")->text, "a&b <c> \xe6\x97\xa5\xe6\x9c\xac");
  EXPECT_EQ(objects[1]->child("Key")->text, "raw <x>");
  EXPECT_EQ(objects[1]->child("VersionId")->text, "null");
}

TEST(Xml, RefusesMalformedDocuments) {
  for (const char* bad : {"", "<a>", "<a></b>", "<a><b></a></b>", "<a>&bogus;</a>", "<a x=1></a>",
                          "<a></a><b></b>", "<a>&#xFFFFFFFF;</a>"}) {
    EXPECT_FALSE(parse_xml(bad)) << bad;
  }
  std::string deep;
  for (int i = 0; i < 100; ++i) deep += "<a>";
  for (int i = 0; i < 100; ++i) deep += "</a>";
  EXPECT_FALSE(parse_xml(deep));  // bounded depth: no stack exhaustion
}

TEST(Xml, WriterEscapes) {
  XmlWriter xml("Root", "urn:x");
  xml.open("Item").element("Key", "a<&>\"'").close();
  EXPECT_EQ(xml.finish(),
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Root xmlns=\"urn:x\"><Item><Key>"
            "a&lt;&amp;&gt;&quot;&apos;</Key></Item></Root>");
}

}  // namespace
}  // namespace offcloud
